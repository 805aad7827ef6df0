"""Run the real `orchestra server` process for a test, and a real gRPC client of it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import pytest

from orchestra import transport
from orchestra.api import orchestra_pb2_grpc
from tests.support.processes import stop

# Planes started by this test process, by address: ProtocolAgent finds its plane's node token here.
PLANES: dict = {}
LISTENING = re.compile(r"orchestra server listening on (\S+) \(data dir (.+)\)")


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestra.server", *args]


@dataclass
class PlaneProcess:
    proc: subprocess.Popen
    address: str
    data_dir: str
    channels: list = field(default_factory=list)
    _node_tls: dict = field(default_factory=dict)

    def __post_init__(self):
        PLANES[self.address] = self

    def client(self) -> orchestra_pb2_grpc.OrchestraStub:
        """A user's client: mutual TLS with the admin config the plane wrote in its data dir."""
        ch = transport.client_channel(self.address, self.admin_tls())
        self.channels.append(ch)
        return orchestra_pb2_grpc.OrchestraStub(ch)

    def channel(self, node: str = "raw-agent"):
        """An agent's channel: mutual TLS with a certificate for `node` (joined with the node token)."""
        ch = transport.client_channel(self.address, self.node_tls(node))
        self.channels.append(ch)
        return ch

    def admin_tls(self) -> transport.ClientTLS:
        from orchestra.security.client_config import load_client_config
        return load_client_config(os.path.join(self.data_dir, "admin.conf"), {}).tls

    def node_token(self) -> str:
        with open(os.path.join(self.data_dir, "node-token")) as f:
            return f.read().strip()

    def node_tls(self, node: str) -> transport.ClientTLS:
        """Join as `node` once (real Join RPC with the plane's node token); cached per node."""
        from orchestra.security.join import join_cluster
        if node not in self._node_tls:
            state = tempfile.mkdtemp(prefix=f"orchestra-node-{node[:20]}-")
            self._node_tls[node] = join_cluster(self.address, self.node_token(), node, state).tls
        return self._node_tls[node]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        for ch in self.channels:
            ch.close()
        self.channels.clear()
        return stop(self.proc, timeout=timeout, sig=sig)


def start_plane(data_dir: str, *args: str, timeout: float = 30) -> PlaneProcess:
    """Start on a free port and wait for the listening line."""
    proc = subprocess.Popen(server_command("--listen", "127.0.0.1:0", "--data-dir", data_dir, *args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    m = LISTENING.search(line)
    if not m:
        proc.kill()
        _, err = proc.communicate(timeout=timeout)
        raise RuntimeError(f"server did not start (rc {proc.returncode}): {line!r} {err!r}")
    assert time.monotonic() < deadline
    return PlaneProcess(proc, m.group(1), m.group(2))


def run_plane_expecting_failure(data_dir: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(server_command("--listen", "127.0.0.1:0", "--data-dir", data_dir, *args),
                          capture_output=True, text=True, timeout=timeout)


# Fixtures, imported by the conftests that want a real plane (server/ and security/).
@pytest.fixture
def plane_factory(tmp_path):
    """`plane_factory(*server_args, data_dir=None)` starts a plane; all are stopped at the end."""
    started = []

    def make(*args: str, data_dir: str | None = None):
        p = start_plane(data_dir or str(tmp_path / "data"), *args)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


@pytest.fixture
def plane(plane_factory):
    return plane_factory()
