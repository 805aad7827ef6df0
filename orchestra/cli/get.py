"""`orchestra get nodes|workloads|replicas [-o wide|json|yaml] [-w WORKLOAD]`."""
from __future__ import annotations

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.context import cli_context
from orchestra.cli.output import FORMATS, emit
from orchestra.cli.tables import table

KINDS = {"nodes": "nodes", "node": "nodes", "no": "nodes",
         "workloads": "workloads", "workload": "workloads", "wl": "workloads",
         "replicas": "replicas", "replica": "replicas", "rep": "replicas"}


@click.command()
@click.argument("kind", type=click.Choice(sorted(KINDS), case_sensitive=False), metavar="nodes|workloads|replicas")
@click.option("-o", "--output", type=click.Choice(FORMATS), default=None, help="wide table, or the API message as json/yaml")
@click.option("-w", "--workload", default="", help="only this workload's replicas")
@click.option("--node", default="", help="only replicas on this node")
@click.pass_context
def get(ctx: click.Context, kind: str, output: str | None, workload: str, node: str) -> None:
    """List nodes, workloads or replicas."""
    kind = KINDS[kind.lower()]
    target = cli_context(ctx).target
    wide = output == "wide"
    if kind == "nodes":
        resp = target.call("ListNodes", pb.ListNodesRequest())
        items, headers = sorted(resp.nodes, key=lambda n: n.name), views.NODE_HEADERS + (views.NODE_WIDE if wide else ())
        rows = [views.node_row(n, wide) for n in items]
    elif kind == "workloads":
        resp = target.call("ListWorkloads", pb.ListWorkloadsRequest())
        if workload:
            resp = pb.ListWorkloadsResponse(workloads=[w for w in resp.workloads if w.name == workload])
        items = list(resp.workloads)
        headers = views.WORKLOAD_HEADERS + (views.WORKLOAD_WIDE if wide else ())
        rows = [views.workload_row(w, wide) for w in sorted(items, key=lambda w: w.name)]
    else:
        resp = target.call("ListReplicas", pb.ListReplicasRequest(workload=workload, node=node))
        headers = views.REPLICA_HEADERS + (views.REPLICA_WIDE if wide else ())
        items = sorted(resp.replicas, key=lambda r: (r.workload, r.index))
        rows = [views.replica_row(r, wide) for r in items]
    if output in ("json", "yaml"):
        emit(resp, output)
        return
    if not rows:
        click.echo(f"No {kind} found.", err=True)
        return
    click.echo(table(headers, rows))
