"""`orchestra logs WORKLOAD[/REPLICA] [-f] [--tail N]`: container output, through the plane."""
from __future__ import annotations

import sys

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError


def parse_target(what: str) -> tuple[str, str]:
    """`web` -> (web, ""); `web/web-0` and `web/0` -> (web, web-0)."""
    workload, _, replica = what.partition("/")
    if not workload or "/" in replica or (not replica and what.endswith("/")):
        raise CliError(f"{what!r}: expected WORKLOAD or WORKLOAD/REPLICA, e.g. web or web/web-0")
    if replica.isdigit():
        replica = f"{workload}-{replica}"   # web/0 means web-0
    return workload, replica


@click.command()
@click.argument("what", metavar="WORKLOAD[/REPLICA]")
@click.option("-f", "--follow", is_flag=True, help="keep streaming new output")
@click.option("--tail", type=click.IntRange(min=0), default=0, help="only the last N lines of each replica (0: all)")
@click.option("--prefix/--no-prefix", default=None,
              help="prefix lines with the replica id (default: when showing several replicas)")
@click.pass_context
def logs(ctx: click.Context, what: str, follow: bool, tail: int, prefix: bool | None) -> None:
    """Print the output of a workload's containers (or one replica's)."""
    workload, replica = parse_target(what)
    if prefix is None:
        prefix = not replica
    target = cli_context(ctx).target
    request = pb.LogsRequest(workload=workload, replica=replica, follow=follow, tail=tail)
    out = sys.stdout.buffer
    partial: dict[str, bytes] = {}
    try:
        for chunk in target.stream("Logs", request):
            if not prefix:
                out.write(chunk.data)
                out.flush()
                continue
            data = partial.pop(chunk.replica, b"") + chunk.data
            *lines, rest = data.split(b"\n")
            for line in lines:
                out.write(f"[{chunk.replica}] ".encode() + line + b"\n")
            if rest:
                partial[chunk.replica] = rest
            out.flush()
    except KeyboardInterrupt:
        pass
    for rid, rest in partial.items():
        out.write(f"[{rid}] ".encode() + rest + b"\n")
    out.flush()
