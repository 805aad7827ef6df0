"""`orchestra move REPLICA`: let a pending replica held by its volume data start on another node."""
from __future__ import annotations

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.context import cli_context


@click.command()
@click.argument("replica")
@click.pass_context
def move(ctx: click.Context, replica: str) -> None:
    """Start a pending REPLICA elsewhere when the node its volume data is on is gone (or will not
    come back). The data does NOT move: its volumes stay behind on that node, Released (`orchestra
    delete volume NAME` removes them), and the replica starts with new, empty volumes."""
    resp = cli_context(ctx).target.call("MoveReplica", pb.MoveReplicaRequest(replica=replica))
    for v in resp.released:
        click.echo(f"{replica}: volume {v.volume} left behind: {v.name} and its data stay on {v.node or 'no node'} "
                   f"(orchestra delete volume {v.name} removes them)")
    if resp.node:
        click.echo(f"{replica} -> {resp.node}, with new, empty volumes" +
                   (f" ({resp.explanation})" if resp.explanation else ""))
    else:
        click.echo(f"{replica}: not placed yet: {resp.explanation or 'no node fits'}")
