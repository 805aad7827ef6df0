"""`orchestra cluster up|down`, `orchestra node bootstrap`: the VM lab
from the command line. Registered by orchestra/cli/main.py."""
from __future__ import annotations

import os
import subprocess
import sys

import click

from orchestra.lab.ssh import LabError


def _globals(ctx: click.Context) -> tuple[str | None, str | None]:
    obj = ctx.find_root().obj
    obj = obj if isinstance(obj, dict) else {}
    return obj.get("server"), obj.get("config")


def _plane(ctx: click.Context):
    """The plane as the operator's machine reaches it, with the admin credentials."""
    from orchestra.cli.connection import resolve
    server, config = _globals(ctx)
    return resolve(server, config)


def _token(token: str, token_file: str) -> str:
    if token_file:
        try:
            return open(os.path.expanduser(token_file)).read().strip()
        except OSError as e:
            raise click.ClickException(f"cannot read --token-file {token_file}: {e.strerror}")
    return token or os.environ.get("ORCHESTRA_TOKEN", "")


def _fail(e: Exception):
    raise click.ClickException(str(e))


def _log(msg: str) -> None:
    click.echo(msg, err=True)


token_options = [
    click.option("--token", default="", help="join token for the agents (default $ORCHESTRA_TOKEN); "
                                               "needed on a node's first bootstrap only"),
    click.option("--token-file", default="", help="read the join token from this file "
                                                    "(e.g. the plane's <data dir>/node-token)"),
]


def _with(options):
    def deco(f):
        for o in reversed(options):
            f = o(f)
        return f
    return deco


# ---- node ------------------------------------------------------------------------------

@click.group("node")
def node() -> None:
    """Install agents on machines over SSH."""


@node.command("bootstrap")
@click.option("--ssh", "ssh_target", required=True, metavar="USER@HOST[:PORT]", help="where to install")
@click.option("--key", required=True, type=click.Path(dir_okay=False), help="SSH private key")
@click.option("--server", required=True, metavar="HOST:PORT",
              help="the plane as the agent in the guest dials it (e.g. 10.0.2.100:7443 in usernet mode)")
@click.option("--name", required=True, help="node name")
@click.option("--labels", default="", help="node labels k=v,k2=v2")
@_with(token_options)
@click.option("--timeout", default=300.0, show_default=True, help="seconds to wait for Ready")
@click.pass_context
def bootstrap_cmd(ctx, ssh_target, key, server, name, labels, token, token_file, timeout) -> None:
    """Copy a wheelhouse to the guest, install orchestra in a venv, start the agent under
    systemd and wait until the plane lists the node Ready. Running it again upgrades in place."""
    from orchestra.lab.bootstrap import BootstrapSpec, bootstrap
    from orchestra.lab.ssh import SSHTarget
    try:
        target = _plane(ctx)
        spec = BootstrapSpec(target=SSHTarget.parse(ssh_target), key=key, server=server, name=name,
                             labels=labels, token=_token(token, token_file), plane=target.address,
                             plane_tls=target.tls, ready_timeout=timeout)
        times = bootstrap(spec, log=_log)
    except LabError as e:
        _fail(e)
    click.echo(f"node {name} Ready ({', '.join(f'{k} {v:.1f}s' for k, v in times.items())})")


# ---- cluster ---------------------------------------------------------------------------

@click.group("cluster")
def cluster() -> None:
    """A lab cluster of VMs (Vagrant/libvirt) with agents."""


lab_options = [
    click.option("--lab", "lab_name", default="lab", show_default=True,
                 help="lab name (state in ~/.cache/orchestra/labs/NAME, or $ORCHESTRA_LAB_DIR/NAME)"),
]


@cluster.command("up")
@click.option("--nodes", default=2, show_default=True, type=click.IntRange(1, 20))
@click.option("--memory", default=1024, show_default=True, type=click.IntRange(512, 65536), help="MiB per VM")
@click.option("--cpus", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--net", type=click.Choice(["private", "usernet"]), default=None,
              help="network mode (default: private with KVM, usernet without)")
@click.option("--box", default="local", show_default=True,
              help="'local' (built offline by vagrant/build-box.sh, cached) or a Vagrant box name")
@click.option("--zones", default="a,b", show_default=True, help="zone labels given to nodes in turn")
@click.option("--labels", default="", help="extra labels for every node k=v,...")
@click.option("--ssh-port-base", default=2220, show_default=True, help="usernet: node i's ssh on 127.0.0.1:BASE+i")
@click.option("--labnet-port", default=0, type=click.IntRange(0, 65533), envvar="ORCHESTRA_LABNET_PORT",
              help="usernet, 2 nodes: link the VMs' second NICs (the lab network for service traffic) by UDP "
                   "on 127.0.0.1:PORT+1 and PORT+2 (default $ORCHESTRA_LABNET_PORT, else off)")
@_with(lab_options + token_options)
@click.pass_context
def cluster_up(ctx, nodes, memory, cpus, net, box, zones, labels, ssh_port_base, labnet_port, lab_name, token,
               token_file) -> None:
    """Bring up NODES VMs with their agents, wait until every node is Ready, print `get nodes`.
    With the local box the agents start at boot from the box's agent layer; with a public box
    they are bootstrapped over SSH."""
    from orchestra.lab.cluster import UpOptions, up
    from orchestra.lab.vagrant import Lab
    try:
        target = _plane(ctx)
        lab = Lab(lab_name)
        if token_file and not os.path.isfile(os.path.expanduser(token_file)):
            raise LabError(f"--token-file {token_file} does not exist")
        times = up(lab, UpOptions(nodes=nodes, memory=memory, cpus=cpus, net=net or "", box=box,
                                  zones=zones, labels=labels, ssh_port_base=ssh_port_base, labnet_port=labnet_port,
                                  token=_token(token, ""), token_file=token_file, plane=target.address,
                                  plane_tls=target.tls), log=_log)
    except LabError as e:
        _fail(e)
    _log("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in times.items()))
    server, config = _globals(ctx)
    args = [sys.executable, "-m", "orchestra.cli.main"]
    args += ["--server", server] if server else []
    args += ["--config", config] if config else []
    subprocess.run([*args, "get", "nodes"], check=False)


@cluster.command("down")
@_with(lab_options)
def cluster_down(lab_name) -> None:
    """Destroy the lab's VMs and forget the lab."""
    from orchestra.lab.cluster import down
    from orchestra.lab.vagrant import Lab
    try:
        seconds = down(Lab(lab_name), log=_log)
    except LabError as e:
        _fail(e)
    click.echo(f"lab {lab_name} destroyed ({seconds:.1f}s)")


from orchestra.lab.pool_command import pool as _pool  # noqa: E402  (`cluster pool ...`)

cluster.add_command(_pool)
