"""`orchestra image load FILE [--nodes a,b]` and `orchestra image list`.

A load goes through the plane (Orchestra.LoadImage) and each node agent's own stream, on every
kind of cluster: the archive is checked here (a `docker save` tar), its size and sha256 are
announced, then it is sent in chunks; the plane relays them to every target node and answers
with one line per node. A node that is not connected is reported and skipped while the others
load; the exit code is 1 when any target did not load the image.
"""
from __future__ import annotations

import hashlib
import os
import tarfile
import time
from typing import Iterator

import click
import grpc

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError
from orchestra.cli.output import emit

CHUNK = 256 * 1024


@click.group("image")
def image() -> None:
    """Images on the cluster's nodes (there is no registry: orchestra never pulls)."""


def check_archive(path: str) -> tuple[int, str]:
    """(size, sha256) of an image archive made by `docker save`; CliError saying what is wrong."""
    if not os.path.isfile(path):
        raise CliError(f"image file {path} does not exist")
    try:
        with tarfile.open(path) as tar:
            names = set(tar.getnames())
    except (tarfile.TarError, OSError) as e:
        raise CliError(f"{path} is not a tar archive: {e}") from None
    if "manifest.json" not in names and "index.json" not in names:
        raise CliError(f"{path} is not an image archive (no manifest.json): make it with `docker save`")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return os.path.getsize(path), digest.hexdigest()


def archive_requests(path: str, start: pb.ImageLoadStart) -> Iterator[pb.ImageLoadRequest]:
    yield pb.ImageLoadRequest(start=start)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            yield pb.ImageLoadRequest(chunk=block)


def node_list(text: str) -> list[str]:
    nodes = [n.strip() for n in text.split(",") if n.strip()]
    if not nodes:
        raise click.BadParameter("name at least one node, e.g. --nodes vm-1,vm-2", param_hint="--nodes")
    return nodes


@image.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--nodes", default=None, metavar="A,B", help="only these nodes (default: every node)")
@click.pass_context
def load(ctx: click.Context, file: str, nodes: str | None) -> None:
    """Load an image archive (`docker save` format) into the nodes' engines, through the plane."""
    targets = node_list(nodes) if nodes is not None else []
    size, sha256 = check_archive(file)
    target = cli_context(ctx).target
    start = pb.ImageLoadStart(nodes=targets, size=size, sha256=sha256, name=os.path.basename(file))
    began = time.monotonic()
    try:
        response = target.stub().LoadImage(archive_requests(file, start), timeout=None)
    except grpc.RpcError as e:
        raise target.failure(e, time.monotonic() - began) from None
    failed = 0
    for n in response.nodes:
        if n.error:
            failed += 1
            click.echo(f"{n.node}: not loaded: {n.error}")
        else:
            click.echo(f"{n.node}: loaded {', '.join(n.images) or 'an image without a name'}")
    if failed:
        raise CliError(f"{file} was not loaded on {failed} of {len(response.nodes)} nodes")


def _is_name(image_ref: str) -> bool:
    """A repo tag, not an id or a digest (those are in -o json)."""
    return not image_ref.startswith("sha256:") and "@" not in image_ref


@image.command("list")
@click.option("-o", "--output", "fmt", type=click.Choice(["json", "yaml"]), default=None,
              help="every node's images in full (ids and digests too)")
@click.pass_context
def list_(ctx: click.Context, fmt: str | None) -> None:
    """Which node holds which image, as the agents report them."""
    from orchestra.cli.tables import table
    response = cli_context(ctx).target.call("ListImages", pb.ListImagesRequest())
    if fmt:
        emit(response, fmt)
        return
    holders: dict[str, list[str]] = {}
    silent = []
    for n in response.nodes:
        if not n.reported:
            silent.append(n.node)
        for i in n.images:
            if _is_name(i):
                holders.setdefault(i, []).append(n.node)
    rows = [(name, len(nodes), ",".join(sorted(nodes))) for name, nodes in sorted(holders.items())]
    if rows:
        click.echo(table(("image", "count", "nodes"), rows))
    else:
        click.echo("no images on any node")
    if silent:
        click.echo(f"not reported by: {', '.join(sorted(silent))}")
