"""`orchestra cordon NODE` / `orchestra uncordon NODE`."""
from __future__ import annotations

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
