"""`orchestra bench isolation`: what each isolation layer costs. Registered by orchestra/cli/main.py."""
from __future__ import annotations

from pathlib import Path

import click

from orchestra.lab.ssh import LabError


@click.group("bench")
def bench() -> None:
    """Measurements of the layers orchestra combines (VMs around containers)."""


def _mib(text: str) -> int:
    from orchestra.spec.quantities import QuantityError, parse_memory
    try:
        size = parse_memory(text)
    except QuantityError as e:
        raise click.BadParameter(str(e), param_hint="--disk-size") from None
    if size < 2**20:
        raise click.BadParameter(f"{text!r} is less than 1Mi: the disk test writes 1 MiB records", param_hint="--disk-size")
    return size // 2**20


@bench.command("isolation")
@click.option("--short", is_flag=True, help="small sizes: every cell quickly (a check, not figures)")
@click.option("--runs", default=3, show_default=True, type=click.IntRange(3, 50), help="runs per cell (the median is shown)")
@click.option("--disk-size", default=None, metavar="SIZE",
              help="the disk test's file, e.g. 4Gi (default 4Gi as in the study, 64Mi with --short)")
@click.option("--workdir", default="/var/tmp/orchestra-bench", show_default=True, type=click.Path(file_okay=False),
              help="where the host arm writes its files (a disk file system, not tmpfs: the disk test uses O_DIRECT)")
@click.option("--docker-host", default="unix:///var/run/docker.sock", show_default=True,
              help="the engine of the container-on-host arm")
def isolation(short, runs, disk_size, workdir, docker_host) -> None:
    """Potdar et al. 2020's test families (CPU: prime search, gzip; memory: STREAM; disk:
    sequential 1 MiB records; HTTP: ab; creation time) on the host, in a VM of the lab's box, in a
    container in that VM and in a container on the host; one table of medians and ratios to the
    host. Nothing is pulled: the container image is built from this machine's Debian binaries."""
    from orchestra.bench.isolation import Options, run
    opt = Options(runs=runs, short=short, disk_mib=_mib(disk_size) if disk_size else None,
                  workdir=Path(workdir), docker_host=docker_host)
    try:
        table, _ = run(opt, log=lambda m: click.echo(m, err=True))
    except LabError as e:
        raise click.ClickException(str(e))
    click.echo(table)
