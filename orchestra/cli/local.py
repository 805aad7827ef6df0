"""`orchestra local up|down|status`: a one-node cluster on this machine, for trying things out.

`up` starts a control plane (`orchestra server`) and one agent (`orchestra-agent`) on this
machine's Docker engine as background processes: logs and PID files live in the data dir.
The agent joins with the plane's own node token (passed in its environment, not its argv),
and the CLI's default client config (~/.orchestra/config) is pointed at the plane's admin
config when there is none yet. `down` stops exactly the processes whose PIDs were recorded;
`down --purge` also removes the local node's containers and the cluster's files. All are idempotent.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.failure import CliError

DEFAULT_DATA_DIR = "~/.orchestra/local"
DEFAULT_LISTEN = "127.0.0.1:7070"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Layout:
    """Where a local cluster keeps its files."""
    root: pathlib.Path

    @property
    def server_dir(self) -> pathlib.Path:
        return self.root / "server"

    @property
    def agent_dir(self) -> pathlib.Path:
        return self.root / "agent"

    @property
    def admin_config(self) -> pathlib.Path:
        return self.server_dir / "admin.conf"

    @property
    def node_token(self) -> pathlib.Path:
        return self.server_dir / "node-token"

    def pid_file(self, role: str) -> pathlib.Path:
        return self.root / f"{role}.pid"

    def log_file(self, role: str) -> pathlib.Path:
        return self.root / f"{role}.log"

    def args_file(self, role: str) -> pathlib.Path:
        return self.root / f"{role}.args"


# What a recorded PID's command line must contain to be ours (PIDs are recycled).
MARKERS = {"server": ("orchestra", "server"), "agent": ("agent",)}


def node_name(hostname: str | None = None) -> str:
    """This machine's host name, made into a valid node name."""
    name = (hostname or socket.gethostname()).split(".")[0].lower()
    name = re.sub(r"[^a-z0-9-]+", "-", name).strip("-")[:63].strip("-")
    return name or "local"


def running_pid(layout: Layout, role: str) -> int | None:
    """The recorded PID of `role` if that process is alive and is ours, else None."""
    import psutil
    try:
        pid = int(layout.pid_file(role).read_text().strip())
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        cmdline = " ".join(proc.cmdline())
    except (OSError, ValueError, psutil.Error):
        return None
    return pid if all(m in cmdline for m in MARKERS[role]) else None


def start(layout: Layout, role: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
    log = open(layout.log_file(role), "ab")
    try:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=str(layout.root))   # survives this command
    finally:
        log.close()
    layout.pid_file(role).write_text(f"{proc.pid}\n")
    return proc


def stop(layout: Layout, role: str) -> str:
    import psutil
    pid = running_pid(layout, role)
    if pid is None:
        layout.pid_file(role).unlink(missing_ok=True)
        return "not running"
    proc = psutil.Process(pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(STOP_TIMEOUT_S)
        how = "stopped"
    except psutil.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        how = f"killed (did not stop within {STOP_TIMEOUT_S:.0f}s of SIGTERM)"
    layout.pid_file(role).unlink(missing_ok=True)
    return f"{how} (pid {pid})"


def _recorded_args(layout: Layout) -> list[str] | None:
    try:
        return json.loads(layout.args_file("agent").read_text())
    except (OSError, ValueError):
        return None


def log_tail(path: pathlib.Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


def client_address(listen: str) -> str:
    host, _, port = listen.rpartition(":")
    if host.strip("[]") in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"{host}:{port}"


@click.group()
def local() -> None:
    """A one-node cluster on this machine (control plane + agent on this Docker)."""


def _layout(data_dir: str) -> Layout:
    return Layout(pathlib.Path(data_dir).expanduser().resolve())


@local.command("up")
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True, help="state, logs and PID files")
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, help="control plane address")
@click.option("--docker-host", default="unix:///var/run/docker.sock", show_default=True,
              help="the Docker engine the agent runs containers on")
@click.option("--labels", default="", help="node labels, k=v,k2=v2")
@click.option("--name", "name", default=None, help="node name (default: this machine's host name)")
@click.option("--timeout", type=click.FloatRange(min=1), default=READY_TIMEOUT_S, show_default=True,
              help="seconds to wait for the node to be Ready")
def up(data_dir: str, listen: str, docker_host: str, labels: str, name: str | None, timeout: float) -> None:
    """Start (or keep) the local control plane and agent; wait until the node is Ready."""
    from orchestra.security.private_files import ensure_private_dir

    layout = _layout(data_dir)
    ensure_private_dir(layout.root)
    node = name or node_name()
    address = client_address(listen)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("ORCHESTRA_TOKEN", None)
    deadline = time.monotonic() + timeout

    server_pid = running_pid(layout, "server")
    if server_pid:
        click.echo(f"control plane: already running (pid {server_pid})")
    else:
        server_pid = start(layout, "server", [sys.executable, "-m", "orchestra.cli.main", "server", "--listen",
                                              listen, "--data-dir", str(layout.server_dir)], env).pid
        click.echo(f"control plane: started (pid {server_pid}, log {layout.log_file('server')})")
    target = _wait_for_plane(layout, address, deadline, timeout)
    address = target.address

    args = [sys.executable, "-m", "agent.main", "--server", address, "--name", node,
            "--docker-host", docker_host, "--state-dir", str(layout.agent_dir)]
    if labels:
        args += ["--labels", labels]
    agent_pid = running_pid(layout, "agent")
    if agent_pid and _recorded_args(layout) != args:
        # e.g. a first `up` with the wrong --docker-host: the new options win
        click.echo(f"agent: options changed, {stop(layout, 'agent')}")
        agent_pid = None
    agent_alive = lambda: running_pid(layout, "agent") is not None  # noqa: E731
    if agent_pid:
        click.echo(f"agent: already running (pid {agent_pid})")
    else:
        agent_env = dict(env, ORCHESTRA_TOKEN=layout.node_token.read_text().strip())
        agent_proc = start(layout, "agent", args, agent_env)
        layout.args_file("agent").write_text(json.dumps(args) + "\n")
        click.echo(f"agent: started (pid {agent_proc.pid}, node {node}, log {layout.log_file('agent')})")
        # Our own child: ask it directly (reading the PID file back once misjudged a live agent).
        agent_alive = lambda: agent_proc.poll() is None  # noqa: E731
    _wait_node_ready(layout, target, node, docker_host, deadline, timeout, agent_alive)
    click.echo(f"node {node}: Ready")
    click.echo(_config_advice(layout))
    click.echo("next: orchestra apply -f examples/web.yaml; orchestra get replicas; orchestra local down")


def _wait_for_plane(layout: Layout, address: str, deadline: float, timeout: float):
    from orchestra.cli.connection import resolve
    while True:
        if running_pid(layout, "server") is None:
            raise CliError(f"the control plane exited; its log {layout.log_file('server')} ends with:\n"
                           f"{log_tail(layout.log_file('server'))}")
        if layout.admin_config.exists() and layout.node_token.exists():
            # Port 0 (tests): only the admin config the plane writes knows the port it got.
            target = resolve(None if address.endswith(":0") else address, str(layout.admin_config), env={})
            try:
                target.stub().ListNodes(pb.ListNodesRequest(), timeout=5)
                return target
            except Exception:   # not answering yet; any error counts as "not yet" until the deadline
                target.close()
        if time.monotonic() >= deadline:
            raise CliError(f"the control plane did not answer at {address} within {timeout:.0f}s; see its log "
                           f"{layout.log_file('server')}:\n{log_tail(layout.log_file('server'))}")
        time.sleep(0.5)


def _wait_node_ready(layout: Layout, target, node: str, docker_host: str, deadline: float,
                     timeout: float, agent_alive) -> None:
    last = "not registered"
    while True:
        if not agent_alive():
            raise CliError(f"the agent exited; its log {layout.log_file('agent')} ends with:\n"
                           f"{log_tail(layout.log_file('agent'))}")
        try:
            nodes = {n.name: n for n in target.stub().ListNodes(pb.ListNodesRequest(), timeout=5).nodes}
            if node in nodes:
                n = nodes[node]
                if n.status == "Ready" and n.runtime_status.startswith("available"):
                    return
                if n.runtime_status.startswith("unavailable"):
                    last = (f"{n.status}, but its Docker engine is {n.runtime_status}; is a Docker engine "
                            f"answering at {docker_host}?")
                else:
                    last = f"{n.status or 'registered'}, runtime {n.runtime_status or 'not reported yet'}"
        except Exception as e:  # the plane may be busy; keep trying until the deadline
            last = f"plane did not answer: {e.__class__.__name__}"
        if time.monotonic() >= deadline:
            raise CliError(f"node {node} was not ready for work within {timeout:.0f}s ({last}); see the agent's log "
                           f"{layout.log_file('agent')}:\n{log_tail(layout.log_file('agent'))}")
        time.sleep(0.5)


def _config_advice(layout: Layout) -> str:
    """Point the CLI's default config at this cluster's admin config when the user has none."""
    default = pathlib.Path("~/.orchestra/config").expanduser()
    env_config = os.environ.get("ORCHESTRA_CONFIG")
    if env_config and pathlib.Path(env_config).expanduser().resolve() == layout.admin_config:
        return f"client config: {layout.admin_config} (from $ORCHESTRA_CONFIG)"
    if default.is_symlink() and default.resolve() == layout.admin_config:
        return f"client config: {default} -> {layout.admin_config}"
    if not default.exists() and not default.is_symlink() and not env_config:
        default.parent.mkdir(parents=True, exist_ok=True)
        default.symlink_to(layout.admin_config)
        return f"client config: {default} -> {layout.admin_config} (created)"
    return (f"client config: this cluster's is {layout.admin_config}; use it with "
            f"`export ORCHESTRA_CONFIG={layout.admin_config}`")


@local.command("down")
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True)
@click.option("--purge", is_flag=True,
              help="also remove the local node's containers and the cluster's state (data dir, client config link)")
def down(data_dir: str, purge: bool) -> None:
    """Stop the local agent and control plane (by their recorded PIDs). Containers are left running
    (a new `local up` adopts them) unless --purge."""
    layout = _layout(data_dir)
    for role in ("agent", "server"):   # the agent first: it would re-create what the purge removes
        click.echo(f"{'control plane' if role == 'server' else role}: {stop(layout, role)}")
    if purge:
        _purge(layout)


def _agent_option(args: list[str], option: str) -> str | None:
    return args[args.index(option) + 1] if option in args[:-1] else None


def _purge(layout: Layout) -> None:
    """Remove the containers the local agent made (labelled orchestra.managed=true and with its
    node name, on the engine it used, both read from its recorded command line), then the data dir.
    If the engine cannot be asked, nothing is deleted, so that the purge can be run again."""
    args = _recorded_args(layout)
    if args is not None:
        node, docker_host = _agent_option(args, "--name"), _agent_option(args, "--docker-host")
        if node and docker_host:
            click.echo(f"containers: {_remove_containers(docker_host, node)}")
    else:
        click.echo("containers: no agent was recorded in this data dir, so none are looked for")
    config = pathlib.Path("~/.orchestra/config").expanduser()
    if config.is_symlink() and pathlib.Path(os.path.realpath(config)) == layout.admin_config:
        config.unlink()
        click.echo(f"client config: removed {config} (it pointed at this cluster)")
    if layout.root.exists():
        import shutil
        shutil.rmtree(layout.root)
        click.echo(f"state: removed {layout.root}")
    else:
        click.echo(f"state: {layout.root} does not exist")


def _remove_containers(docker_host: str, node: str) -> str:
    import docker
    try:
        client = docker.DockerClient(base_url=docker_host, timeout=30)
    except docker.errors.DockerException as e:
        raise CliError(f"cannot reach the Docker engine at {docker_host} to remove node {node}'s containers "
                       f"({e}); nothing was removed, run `local down --purge` again when it answers") from None
    try:
        # The low-level list: the high-level one inspects each container, and fails on one just removed.
        found = client.api.containers(all=True, filters={"label": ["orchestra.managed=true", f"orchestra.node={node}"]})
        for c in found:
            try:
                client.api.remove_container(c["Id"], force=True)
            except docker.errors.NotFound:
                pass                           # removed meanwhile: gone is what we want
        # Its replicas' volumes too (the purge removes the cluster's data), once no container uses them.
        volumes = (client.api.volumes(filters={"label": ["orchestra.managed=true", f"orchestra.node={node}"]})
                   or {}).get("Volumes") or []
        for v in volumes:
            try:
                client.api.remove_volume(v["Name"])
            except docker.errors.NotFound:
                pass
    except docker.errors.DockerException as e:
        raise CliError(f"removing node {node}'s containers on {docker_host} failed ({e}); the data dir is "
                       f"kept, run `local down --purge` again") from None
    finally:
        client.close()
    names = ", ".join(sorted(n.lstrip("/") for c in found for n in (c.get("Names") or [])[:1]))
    return (f"removed {len(found)} of node {node} on {docker_host}" + (f" ({names})" if names else "")
            + (f", and its {len(volumes)} volumes" if volumes else ""))


@local.command("status")
@click.option("--data-dir", default=DEFAULT_DATA_DIR, show_default=True)
def status(data_dir: str) -> None:
    """Show whether the local control plane and agent run, and the node's state."""
    layout = _layout(data_dir)
    for role in ("server", "agent"):
        pid = running_pid(layout, role)
        state = f"running (pid {pid})" if pid else "not running"
        click.echo(f"{'control plane' if role == 'server' else role}: {state}; log {layout.log_file(role)}")
