"""A whole cluster of real processes for tests: one `orchestra server` and agents, each agent
on its own real dockerd (tests/integration/engines.py), all on 127.0.0.1.

Tests look at the cluster the way a user does: through the `orchestra` command (`cli`,
`cli_json`) and through `docker inspect` on the engines.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import docker

from engines import Engine
from tests.support.ports import free_port
from tests.support.processes import stop
from tests.support.waiting import WAIT_S, wait_for  # noqa: F401 (tests import them from here)



@dataclass
class Proc:
    name: str
    args: list[str]
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen | None = None

    def start(self) -> "Proc":
        log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                      start_new_session=True)
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 15.0) -> None:
        stop(self.popen, timeout=timeout)

    def kill9(self) -> None:
        if self.alive:
            self.signal(signal.SIGKILL)
            self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@dataclass
class Cluster:
    workdir: Path
    node_grace_s: float = 6.0
    heartbeat_s: float = 1.0
    port: int = field(default_factory=free_port)
    server: Proc | None = None
    agents: dict[str, Proc] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    engine_factory: Callable[..., list[Engine]] | None = None
    _api: object = None
    _channel: object = None
    # Nodes linked to each other (tests/integration/linked_network.py): agents then run inside their
    # node's namespace and reach the plane through the link.
    network: object | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "plane"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["ORCHESTRA_SERVER"] = self.address
        env["ORCHESTRA_CONFIG"] = str(self.data_dir / "admin.conf")   # written by the plane at start
        env["PYTHONUNBUFFERED"] = "1"
        return env

    # -- processes ---------------------------------------------------------------------
    def start_server(self, *extra: str) -> Proc:
        """`extra`: more `orchestra server` options, e.g. "--metrics-listen", "127.0.0.1:PORT"."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [sys.executable, "-m", "orchestra.cli.main", "server", "--listen", self.address,
                "--data-dir", str(self.data_dir), "--node-grace", f"{self.node_grace_s}s",
                "--heartbeat-interval", f"{self.heartbeat_s}s", *extra]
        if self.network is not None:
            from linked_network import PLANE_ADDRESS
            args += ["--tls-san", PLANE_ADDRESS]
            self.network.forward(self.port)
        self.server = Proc("server", args, self.workdir / "server.log", self.env()).start()
        wait_for("the control plane to answer", lambda: self.cli("get", "nodes", check=False).returncode == 0
                 or (not self.server.alive and _raise(f"server exited:\n{self.server.log()}")))
        return self.server

    def start_agent(self, name: str, engine: Engine, labels: str = "", cpu: str = "2",
                    memory: str = "2Gi", extra: tuple[str, ...] = (), token: str = "") -> Proc:
        """`token`: the join token (default: the plane's node token)."""
        self.engines[name] = engine
        # Containers of a bridge engine get their own network namespace (so replicas of one workload
        # can listen on one port on one node); else they share the engine's (network host).
        network = "bridge" if engine.bridge else "host"
        server, inside = self.address, []
        if self.network is not None:
            from linked_network import PLANE_ADDRESS
            if engine.netns_pid not in self.network.addresses:
                self.network.attach(engine.netns_pid)
            server = f"{PLANE_ADDRESS}:{self.port}"
            inside = ["nsenter", "-t", str(engine.netns_pid), "-n", "--"]
        args = inside + [sys.executable, "-m", "agent.main", "--server", server, "--name", name,
                "--docker-host", engine.host, "--cpu", cpu, "--memory", memory, "--network", network,
                # joins once with the plane's node token, then uses its own certificate
                "--token", token or (self.data_dir / "node-token").read_text().strip(),
                "--state-dir", str(self.workdir / f"agent-state-{name}"),
                # config and secret files on a tmpfs of this test's own (removed by stop())
                "--secrets-dir", str(self.secrets_dir / name)]
        if labels:
            args += ["--labels", labels]
        args += extra
        proc = Proc(f"agent-{name}", args, self.workdir / f"agent-{name}.log", self.env()).start()
        self.agents[name] = proc
        return proc

    def add_nodes(self, count: int, prefix: str = "node", labels: Callable[[int], str] | None = None,
                  bridge: bool = False, **agent_options) -> list[str]:
        """Start `count` engines (with Docker's bridge network when `bridge`) and an agent on each;
        wait until every node is Ready."""
        assert self.engine_factory is not None
        names = []
        for i, engine in enumerate(self.engine_factory(count, bridge=bridge), start=len(self.agents) + 1):
            name = f"{prefix}-{i}"
            self.start_agent(name, engine, labels=labels(i) if labels else "", **agent_options)
            names.append(name)
        self.wait_nodes_ready(*names)
        return names

    def apply(self, manifest: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        path = self.workdir / f"manifest-{time.monotonic_ns()}.yaml"
        path.write_text(manifest)
        return self.cli("apply", "-f", str(path), *args, check=check)

    @property
    def secrets_dir(self) -> Path:
        return Path("/dev/shm") / f"orchestra-test-{hashlib.sha256(str(self.workdir).encode()).hexdigest()[:12]}"

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        for proc in list(self.agents.values()):
            proc.stop()
        if self.server:
            self.server.stop()
        shutil.rmtree(self.secrets_dir, ignore_errors=True)

    def logs(self) -> str:
        """Every process log, for a failing test's report."""
        parts = []
        for proc in [self.server, *self.agents.values()]:
            if proc:
                parts.append(f"----- {proc.name} -----\n{proc.log()[-6000:]}")
        return "\n".join(parts)

    # -- the user's view ---------------------------------------------------------------
    def cli(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        res = subprocess.run([sys.executable, "-m", "orchestra.cli.main", *args], capture_output=True,
                             text=True, env=self.env(), timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError(f"orchestra {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def api(self):
        """The user API as the CLI calls it (admin credentials of the plane's admin.conf), for tests
        that sample state faster than a CLI process per look allows."""
        if self._api is None:
            from orchestra import transport
            from orchestra.api import orchestra_pb2_grpc
            from orchestra.security.client_config import load_client_config
            cfg = load_client_config(self.data_dir / "admin.conf")
            self._channel = transport.client_channel(self.address, cfg.tls)
            self._api = orchestra_pb2_grpc.OrchestraStub(self._channel)
        return self._api

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, "-o", "json").stdout)

    def nodes(self) -> dict[str, dict]:
        return {n["name"]: n for n in _items(self.cli_json("get", "nodes"), "nodes")}

    def replicas(self, workload: str = "") -> list[dict]:
        args = ["get", "replicas"] + (["--workload", workload] if workload else [])
        return _items(self.cli_json(*args), "replicas")

    def wait_nodes_ready(self, *names: str, timeout: float = WAIT_S) -> None:
        names = names or tuple(self.agents)
        wait_for(f"nodes {names} Ready",
                 lambda: all(self.nodes().get(n, {}).get("status") == "Ready" for n in names), timeout)

    def wait_running(self, workload: str, count: int, timeout: float = WAIT_S) -> list[dict]:
        def check():
            reps = self.replicas(workload)
            running = [r for r in reps if r.get("phase") == "Running"]
            return reps if len(running) == count and len(reps) == count else None
        return wait_for(f"{count} replicas of {workload} Running", check, timeout)

    def containers(self, node: str, workload: str = "", all_states: bool = False) -> list:
        filters = {"label": ["orchestra.managed=true"] + ([f"orchestra.workload={workload}"] if workload else [])}
        with self.engines[node].client() as client:
            for _ in range(5):
                try:
                    return client.containers.list(all=all_states, filters=filters)
                except docker.errors.NotFound:
                    # The SDK lists, then inspects each container: one the agent removed in between
                    # is gone. Ask again for the engine's state as it is now.
                    time.sleep(0.2)
            return client.containers.list(all=all_states, filters=filters)


def _items(data, key: str) -> list[dict]:
    """`get -o json` prints a list, or an object holding the list under `key`."""
    if isinstance(data, dict):
        return data.get(key, data.get("items", []))
    return data


def _raise(msg: str):
    raise AssertionError(msg)
