"""`orchestra cordon NODE` / `orchestra uncordon NODE` / `orchestra drain NODE`."""
from __future__ import annotations

import time

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.context import cli_context


def _set(ctx: click.Context, name: str, schedulable: bool) -> None:
    node = cli_context(ctx).target.call("SetNodeSchedulable",
                                        pb.SetNodeSchedulableRequest(name=name, schedulable=schedulable))
    click.echo(f"{node.name or name}: {'uncordoned' if schedulable else 'cordoned'}")


@click.command()
@click.argument("node")
@click.pass_context
def cordon(ctx: click.Context, node: str) -> None:
    """Mark a node unschedulable (its running replicas stay)."""
    _set(ctx, node, False)


@click.command()
@click.argument("node")
@click.pass_context
def uncordon(ctx: click.Context, node: str) -> None:
    """Mark a node schedulable again."""
    _set(ctx, node, True)


@click.command()
@click.argument("node")
@click.option("--timeout", default="5m", show_default=True, metavar="DURATION",
              help="how long to wait for the node to be empty (e.g. 90s, 5m)")
@click.option("--include-daemons", is_flag=True, help="also stop the node's daemon replicas")
@click.pass_context
def drain(ctx: click.Context, node: str, timeout: str, include_daemons: bool) -> None:
    """Cordon a node, then move its replicas elsewhere within each workload's update budget (the
    replacement Ready before the old one stops), saying what it waits for. `uncordon` ends it."""
    from orchestra.cli.failure import CliError
    from orchestra.spec.quantities import QuantityError, parse_duration_ms
    try:
        limit = parse_duration_ms(timeout) / 1000
    except QuantityError as e:
        raise click.BadParameter(str(e), param_hint="--timeout") from None
    target = cli_context(ctx).target
    target.call("DrainNode", pb.DrainNodeRequest(name=node, include_daemons=include_daemons))
    click.echo(f"{node}: cordoned; draining")
    deadline = time.monotonic() + limit
    shown = ""
    while True:
        d = target.call("DescribeNode", pb.DescribeRequest(name=node))
        left = [r for r in d.replicas if (include_daemons or not r.pinned_node)
                and r.phase not in ("Succeeded", "Failed")]
        if not left:
            click.echo(f"{node}: drained")
            return
        why = _waiting_for(target, left)
        if why != shown:
            click.echo(f"{node}: {len(left)} replicas left: {why}")
            shown = why
        if time.monotonic() >= deadline:
            raise CliError(f"{node}: not drained after {timeout}: {why}")
        time.sleep(1.0)


def _waiting_for(target, left) -> str:
    """What each workload with a replica still on the node waits for (its rollout's words)."""
    parts = []
    for name in sorted({r.workload for r in left}):
        ids = ", ".join(r.id + (" (stopping)" if r.phase == "Terminating" else "") for r in left if r.workload == name)
        info = target.call("DescribeWorkload", pb.DescribeRequest(name=name)).workload
        parts.append(f"{ids} ({name}: {info.rollout.message or info.rollout.state})")
    return "; ".join(parts)
