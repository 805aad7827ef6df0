"""A cluster with several real planes on one real 3-member etcd (tests/support/etcd.py), real
agents on real dockerd engines: tests/integration/cluster/harness.py's Cluster, with `address`
naming every plane (the CLI and the agents get the whole list, as a user gives it) and a
`Proc` per plane.

    ha.start_planes(3)           # p1 first (it makes the cluster's keys), then p2, p3 with its token
    ha.leader()                  # the name of the plane that leads, as ListPlanes tells it
    ha.planes["p1"].kill9()
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from harness import Cluster, Proc, _raise, wait_for
from tests.support.ports import free_port

from orchestra import transport
from orchestra.api import orchestra_pb2, orchestra_pb2_grpc
from orchestra.security.client_config import load_client_config


@dataclass
class HaCluster(Cluster):
    etcd: object = None                                   # tests.support.etcd.EtcdCluster
    prefix: str = "/orchestra-ha/"
    planes: dict[str, Proc] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.ports.values())

    def plane_dir(self, name: str) -> Path:
        return self.data_dir if name == "p1" else self.workdir / f"plane-{name}"

    def plane_args(self, name: str) -> list[str]:
        e = self.etcd
        args = [sys.executable, "-m", "orchestra.cli.main", "server", "--name", name,
                "--listen", f"127.0.0.1:{self.ports[name]}", "--data-dir", str(self.plane_dir(name)),
                "--store", f"{e.url}{self.prefix}", "--etcd-ca", e.tls.ca, "--etcd-cert", e.tls.cert,
                "--etcd-key", e.tls.key, "--node-grace", f"{self.node_grace_s}s",
                "--heartbeat-interval", f"{self.heartbeat_s}s"]
        if name != "p1":
            args += ["--plane-token-file", str(self.data_dir / "plane-token")]
        return args

    def start_planes(self, count: int = 3) -> None:
        for i in range(1, count + 1):
            self.ports.setdefault(f"p{i}", free_port())
        for i in range(1, count + 1):
            self.start_plane(f"p{i}")
            if i == 1:   # the first plane makes the keys the others open with its token
                wait_for("p1's plane token and admin config",
                         lambda: ((self.data_dir / "plane-token").exists() and (self.data_dir / "admin.conf").exists())
                         or (not self.planes["p1"].alive and _raise(f"p1 exited:\n{self.planes['p1'].log()}")))
        wait_for("a plane to lead", self.leader, timeout=60)
        wait_for("the CLI to reach the leader", lambda: self.cli("get", "nodes", check=False).returncode == 0)

    def start_plane(self, name: str) -> Proc:
        self.plane_dir(name).mkdir(parents=True, exist_ok=True)
        proc = Proc(name, self.plane_args(name), self.workdir / f"{name}.log", self.env()).start()
        self.planes[name] = proc
        if name == "p1":
            self.server = proc      # Cluster.stop and logs see it
        return proc

    def list_planes(self, name: str, timeout: float = 3.0) -> orchestra_pb2.ListPlanesResponse | None:
        """What plane `name` answers to ListPlanes (None when it does not answer)."""
        cfg = load_client_config(self.data_dir / "admin.conf")
        with transport.client_channel(f"127.0.0.1:{self.ports[name]}", cfg.tls) as ch:
            try:
                return orchestra_pb2_grpc.OrchestraStub(ch).ListPlanes(orchestra_pb2.ListPlanesRequest(),
                                                                       timeout=timeout)
            except grpc.RpcError:
                return None

    def leader(self, among: tuple[str, ...] = ()) -> str:
        """The leading plane as the live planes (or `among`) say, when they agree on one; "" otherwise."""
        seen = set()
        for name in among or [n for n, p in self.planes.items() if p.alive]:
            answer = self.list_planes(name)
            if answer is None:
                continue
            leaders = [p.name for p in answer.planes if p.leader]
            seen.add(leaders[0] if leaders else "")
        return seen.pop() if len(seen) == 1 else ""

    def wait_agents_connected(self, plane: str, timeout: float = 60) -> None:
        """Every agent's last session is with `plane` (as the agents' own logs say)."""
        address = f"127.0.0.1:{self.ports[plane]}"

        def on_it(proc) -> bool:
            lines = [ln for ln in proc.log().splitlines() if " connected to " in ln]
            return bool(lines) and f" connected to {address} " in lines[-1]
        wait_for(f"every agent connected to {plane}", lambda: all(on_it(p) for p in self.agents.values()),
                 timeout=timeout)

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
        for proc in list(self.agents.values()):
            proc.stop()
        for proc in self.planes.values():
            proc.stop()

    def logs(self) -> str:
        parts = []
        for proc in [*self.planes.values(), *self.agents.values()]:
            parts.append(f"----- {proc.name} -----\n{proc.log()[-6000:]}")
        return "\n".join(parts)
