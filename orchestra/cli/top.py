"""`orchestra top nodes|replicas`: usage the agents reported (CPU%, memory used/limit)."""
from __future__ import annotations

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.context import cli_context
from orchestra.cli.tables import table


@click.command()
@click.argument("kind", type=click.Choice(["nodes", "node", "replicas", "replica"], case_sensitive=False))
@click.option("--workload", default="", help="only this workload's replicas")
@click.pass_context
def top(ctx: click.Context, kind: str, workload: str) -> None:
    """Show CPU and memory usage of nodes or replicas."""
    target = cli_context(ctx).target
    if kind.lower().startswith("node"):
        nodes = sorted(target.call("ListNodes", pb.ListNodesRequest()).nodes, key=lambda n: n.name)
        rows = [views.node_usage_row(n) for n in nodes]
        headers = ("name", "cpu%", "memory(used/total)", "memory%")
    else:
        replicas = target.call("ListReplicas", pb.ListReplicasRequest(workload=workload)).replicas
        rows = [views.replica_usage_row(r) for r in sorted(replicas, key=lambda r: (r.workload, r.index))]
        headers = ("name", "node", "cpu%", "memory(used/limit)", "memory%")
    if not rows:
        click.echo(f"No {kind.lower().rstrip('s')}s found.", err=True)
        return
    click.echo(table(headers, rows))
    if any(r[-1] == "-" for r in rows):
        click.echo("(-: no usage sample yet; agents report every few seconds)", err=True)
