"""`orchestra events [--watch] [--for workload/NAME|node/NAME|replica/NAME|pool/NAME] [-o json|yaml]`:
what the plane recorded, newest last, like `kubectl get events [-w]`."""
from __future__ import annotations

import json
import re

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.context import cli_context
from orchestra.cli.output import emit, message_dict
from orchestra.cli.tables import column_widths, table, table_line
from orchestra.cli.watch import EventFeed

HEADERS = ("age", "type", "reason", "object", "message")
FOR_KINDS = {"workload": "Workload", "workloads": "Workload", "wl": "Workload",
             "node": "Node", "nodes": "Node", "no": "Node",
             "replica": "Replica", "replicas": "Replica", "rep": "Replica",
             "pool": "Pool", "pools": "Pool"}


class About:
    """Which events `--for KIND/NAME` keeps. A workload's own and its replicas' (<name>-<index>),
    as `describe workload` shows them."""

    def __init__(self, kind: str = "", name: str = "") -> None:
        self.kind, self.name = kind, name
        self._replica = re.compile(rf"{re.escape(name)}-\d+") if kind == "Workload" else None

    @property
    def server_object(self) -> str:
        """The plane filters by object name alone; a workload's replicas have other names."""
        return self.name if self.kind in ("Node", "Replica", "Pool") else ""

    def keeps(self, e) -> bool:
        if not self.kind:
            return True
        if e.kind == self.kind and e.object == self.name:
            return True
        return self._replica is not None and e.kind == "Replica" and self._replica.fullmatch(e.object) is not None


def _about(ctx, param, value: str | None) -> About:
    if not value:
        return About()
    kind, slash, name = value.partition("/")
    if not slash or not name or "/" in name or kind.lower() not in FOR_KINDS:
        raise click.BadParameter(f"{value!r}: expected workload/NAME, node/NAME, replica/NAME or pool/NAME")
    return About(FOR_KINDS[kind.lower()], name)


@click.command()
@click.option("-w", "--watch", is_flag=True, help="after the recorded events, print new ones as they happen (Ctrl-C ends)")
@click.option("--for", "about", callback=_about, default=None, metavar="KIND/NAME",
              help="only events of workload/NAME (with its replicas), node/NAME or replica/NAME")
@click.option("-o", "--output", type=click.Choice(["json", "yaml"]), default=None,
              help="the events as API messages (with --watch: one JSON object per line)")
@click.pass_context
def events(ctx: click.Context, watch: bool, about: About, output: str | None) -> None:
    """Show the events the plane recorded, newest last."""
    target = cli_context(ctx).target
    listed = target.call("ListEvents", pb.ListEventsRequest(object=about.server_object))
    found = [e for e in listed.events if about.keeps(e)]
    if watch and output:
        for e in found:
            _print_one(e, output)
    elif output:
        emit({"events": [message_dict(e) for e in found]}, output)
    elif found:
        click.echo(table(HEADERS, [views.event_row(e) for e in found]))
    elif not watch:
        click.echo("No events found.", err=True)
    if not watch:
        return
    widths = column_widths(HEADERS, [views.event_row(e) for e in found]) if found else None
    feed = EventFeed(target, listed.last_id, about.server_object)
    try:
        while True:
            for e in feed.next(None):
                if not about.keeps(e):
                    continue
                if output:
                    _print_one(e, output)
                    continue
                row = views.event_row(e)
                if widths is None:      # nothing was listed: the first new event brings the header
                    widths = column_widths(HEADERS, [row])
                    click.echo(table_line([h.upper() for h in HEADERS], widths))
                click.echo(table_line(row, widths))
    except KeyboardInterrupt:
        pass
    finally:
        feed.close()


def _print_one(e, output: str) -> None:
    """While watching: one JSON object per line, or one YAML document per event."""
    if output == "json":
        click.echo(json.dumps(message_dict(e), sort_keys=True))
    else:
        click.echo("---")
        emit(message_dict(e), "yaml")
