"""`orchestra get nodes|workloads|replicas|services|configs|secrets|volumes|all [NAME] [-l SELECTOR]
[-o wide|json|yaml] [-w]`."""
from __future__ import annotations

import json

import click

from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError
from orchestra.cli.kinds import ALIASES, IN_ALL, KINDS, Filters, Kind
from orchestra.cli.output import FORMATS, emit, message_dict
from orchestra.cli.selectors import Selector, SelectorError, parse_selector
from orchestra.cli.tables import column_widths, table, table_line
from orchestra.cli.watch import RESYNC_S, EventFeed, newest_event_id

ALL = "all"


def _selector(ctx, param, value: str | None) -> Selector:
    try:
        return parse_selector(value) if value else Selector()
    except SelectorError as e:
        raise click.BadParameter(str(e)) from None


@click.command()
@click.argument("kind", type=click.Choice(sorted([*ALIASES, ALL]), case_sensitive=False),
                metavar="nodes|workloads|replicas|services|configs|secrets|volumes|planes|all")
@click.argument("name", required=False)
@click.option("-o", "--output", type=click.Choice(FORMATS), default=None, help="wide table, or the API message as json/yaml")
@click.option("-l", "--selector", callback=_selector, default=None, metavar="SELECTOR",
              help="only objects whose labels match, e.g. app=web,tier!=db (replicas: their workload's labels)")
@click.option("-w", "--watch", is_flag=True, help="after the list, print a row whenever an object changes (Ctrl-C ends)")
@click.option("--workload", default="", help="only this workload's replicas (or volumes)")
@click.option("--node", default="", help="only replicas (or volumes) on this node")
@click.pass_context
def get(ctx: click.Context, kind: str, name: str | None, output: str | None, selector: Selector, watch: bool,
        workload: str, node: str) -> None:
    """List nodes, workloads, replicas, services, configs, secrets (keys and sizes only), volumes or
    the control planes (all: nodes, workloads, replicas and services), or show one by NAME."""
    kind = kind.lower()
    if name and kind == ALL:
        raise click.UsageError("`get all` takes no NAME")
    if name and selector:
        raise click.UsageError("give a NAME or a --selector, not both")
    kinds = [KINDS[k] for k in IN_ALL] if kind == ALL else [KINDS[ALIASES[kind]]]
    filters = Filters(name=name or "", selector=selector, workload=workload, node=node)
    target = cli_context(ctx).target
    # Read the newest event id before listing: watching after it misses no change made meanwhile.
    after_id = newest_event_id(target) if watch else 0
    listed = {k.plural: k.fetch(target, filters) for k in kinds}
    if name and not listed[kinds[0].plural]:
        raise CliError(f"{kinds[0].singular} {name!r} not found")
    prefix = kind == ALL
    if output in ("json", "yaml") and watch:
        for k in kinds:                   # the same form as the changes that follow
            for item in listed[k.plural]:
                _print_change("ADDED", k, item, output)
    elif output in ("json", "yaml"):
        _print_objects(kinds, listed, output, single=bool(name))
    else:
        _print_tables(kinds, listed, output == "wide", prefix)
    if watch:
        _watch(target, kinds, filters, listed, output, after_id, prefix)


def _print_objects(kinds: list[Kind], listed: dict, fmt: str, single: bool) -> None:
    if single:
        emit(listed[kinds[0].plural][0], fmt)
        return
    data = {k.plural: [message_dict(i) for i in listed[k.plural]] for k in kinds}
    emit(data, fmt)


def _print_tables(kinds: list[Kind], listed: dict, wide: bool, prefix: bool) -> None:
    sections = []
    for k in kinds:
        if listed[k.plural]:
            sections.append(table(k.columns(wide), [_row(k, i, wide, prefix) for i in listed[k.plural]]))
    if sections:
        click.echo("\n\n".join(sections))
    else:
        click.echo(f"No {'resources' if prefix else kinds[0].plural} found.", err=True)


def _row(k: Kind, item, wide: bool, prefix: bool) -> list[str]:
    row = k.row(item, wide)
    if prefix:
        row[0] = f"{k.singular}/{row[0]}"
    return row


def _watch(target, kinds: list[Kind], filters: Filters, listed: dict, output: str | None, after_id: int,
           prefix: bool) -> None:
    wide = output == "wide"
    structured = output in ("json", "yaml")
    shown: dict[str, dict] = {}        # kind -> name -> (identity, item)
    widths: dict[str, list[int]] = {}  # kind -> column widths of what was printed first
    for k in kinds:
        items = listed[k.plural]
        shown[k.plural] = {k.name(i): (k.identity(i, wide), i) for i in items}
        if items:
            widths[k.plural] = column_widths(k.columns(wide), [_row(k, i, wide, prefix) for i in items])
    feed = EventFeed(target, after_id)
    try:
        while True:
            feed.next(RESYNC_S)           # [] after RESYNC_S without events: re-list anyway
            for k in kinds:
                _print_changes(target, k, filters, shown[k.plural], widths, wide, output if structured else None,
                               prefix)
    except KeyboardInterrupt:
        pass
    finally:
        feed.close()


def _print_changes(target, k: Kind, filters: Filters, shown: dict, widths: dict, wide: bool,
                   structured: str | None, prefix: bool) -> None:
    current = {k.name(i): i for i in k.fetch(target, filters)}
    changes = []
    for name, item in current.items():
        ident = k.identity(item, wide)
        if name not in shown:
            changes.append(("ADDED", item, ""))
        elif shown[name][0] != ident:
            changes.append(("MODIFIED", item, ""))
        shown[name] = (ident, item)
    for name in [n for n in shown if n not in current]:
        changes.append(("DELETED", shown.pop(name)[1], "(deleted)"))
    for change, item, note in changes:
        if structured:
            _print_change(change, k, item, structured)
        else:
            row = _row(k, item, wide, prefix) + ([note] if note else [])
            if k.plural not in widths:      # the first of its kind: it needs a header
                widths[k.plural] = column_widths(k.columns(wide), [row])
                click.echo(table_line([h.upper() for h in k.columns(wide)], widths[k.plural]))
            click.echo(table_line(row, widths[k.plural]))


def _print_change(change: str, k: Kind, item, fmt: str) -> None:
    """While watching with -o json|yaml: {type: ADDED|MODIFIED|DELETED, kind, object}, one JSON
    object per line (or one YAML document each)."""
    doc = {"type": change, "kind": k.singular, "object": message_dict(item)}
    if fmt == "json":
        click.echo(json.dumps(doc, sort_keys=True))
    else:
        click.echo("---")
        emit(doc, "yaml")
