"""A small, real AgentLink server for driving agents in tests: a gRPC peer on 127.0.0.1 that
records every message agents send and sends what the test tells it (desired sets, log
requests, refusals). It follows the plane's side of docs/internals.md just enough: Welcome
first, the node's current desired set on every (re)connect.

Also: `AgentProcess`, the real `orchestra-agent` as a child process.
"""
from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Callable

import grpc

from orchestra import transport
from orchestra.api import agent_pb2, agent_pb2_grpc
from tests.support.processes import stop

WAIT_S = 60.0


class PeerSession:
    def __init__(self, hello: agent_pb2.Hello):
        self.hello = hello
        self.outbox: queue.Queue = queue.Queue()
        self.ended = threading.Event()


class LinkPeer(agent_pb2_grpc.AgentLinkServicer):
    def __init__(self, heartbeat_ms: int = 500, usage_ms: int = 1000, port: int = 0):
        self.heartbeat_ms = heartbeat_ms
        self.usage_ms = usage_ms
        self.refusal: str | None = None
        self.send_desired_on_connect = True
        self.received: list[tuple[str, agent_pb2.AgentMessage]] = []   # (node, message)
        self.sessions: list[PeerSession] = []
        self.desired: dict[str, agent_pb2.DesiredSet] = {}
        self._cond = threading.Condition()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                                   options=transport.SERVER_OPTIONS)
        agent_pb2_grpc.add_AgentLinkServicer_to_server(self, self._server)
        # Mutual TLS like the plane's, with one CA per test process (a restarted peer still knows
        # the agent's certificate); agents join with TEST_TOKEN (see AgentProcess).
        self.port = transport.add_listen_port(self._server, f"127.0.0.1:{port}", peer_pki().server_tls)
        self.address = f"127.0.0.1:{self.port}"
        self._server.start()

    def stop(self) -> None:
        for s in self.sessions:
            s.ended.set()
        self._server.stop(grace=0).wait(10)

    # -- the service --

    def Join(self, request, context):
        return peer_pki().join.handle(request, context)

    def Session(self, request_iterator, context):
        try:
            first = next(request_iterator)
        except StopIteration:
            return
        self._record(first.hello.node_name, first)
        if self.refusal is not None:
            yield agent_pb2.PlaneMessage(refusal=agent_pb2.Refusal(reason=self.refusal))
            return
        s = PeerSession(first.hello)
        with self._cond:
            self.sessions.append(s)
            self._cond.notify_all()

        def read():
            try:
                for m in request_iterator:
                    self._record(s.hello.node_name, m)
            except grpc.RpcError:
                pass
            s.ended.set()

        threading.Thread(target=read, daemon=True).start()
        yield agent_pb2.PlaneMessage(welcome=agent_pb2.Welcome(
            node_name=s.hello.node_name, heartbeat_interval_ms=self.heartbeat_ms,
            usage_interval_ms=self.usage_ms))
        ds = self.desired.get(s.hello.node_name)
        if ds is not None and self.send_desired_on_connect:
            yield agent_pb2.PlaneMessage(desired=ds)
        while not s.ended.is_set() and context.is_active():
            try:
                yield s.outbox.get(timeout=0.2)
            except queue.Empty:
                pass

    # -- what tests call --

    def set_desired(self, node: str, revision: int, specs: list[agent_pb2.ContainerSpec],
                    send: bool = True) -> agent_pb2.DesiredSet:
        ds = agent_pb2.DesiredSet(revision=revision, replicas=specs)
        self.desired[node] = ds
        if send:
            self.send(node, agent_pb2.PlaneMessage(desired=ds))
        return ds

    def send(self, node: str, msg: agent_pb2.PlaneMessage) -> None:
        for s in self.sessions:
            if s.hello.node_name == node and not s.ended.is_set():
                s.outbox.put(msg)

    def _record(self, node: str, m: agent_pb2.AgentMessage) -> None:
        with self._cond:
            self.received.append((node, m))
            self._cond.notify_all()

    def messages(self, node: str, kind: str) -> list:
        with self._cond:
            return [getattr(m, kind) for n, m in self.received
                    if n == node and m.WhichOneof("msg") == kind]

    def wait_for(self, what: str, cond: Callable[[], object], timeout: float = WAIT_S):
        """Wait until cond() returns something truthy; returns it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                r = cond()
                if r:
                    return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
                self._cond.wait(min(left, 0.5))

    def wait_status(self, node: str, pred: Callable[[dict[str, agent_pb2.ReplicaStatus]], bool],
                    what: str, timeout: float = WAIT_S) -> dict[str, agent_pb2.ReplicaStatus]:
        """Wait for a StatusReport of `node` whose replicas (by id) satisfy pred."""
        def check():
            reports = self.messages(node, "status")
            if reports:
                by_id = {r.replica_id: r for r in reports[-1].replicas}
                if pred(by_id):
                    return by_id
            return None
        return self.wait_for(what, check, timeout)

    def session_count(self, node: str) -> int:
        with self._cond:
            return sum(1 for s in self.sessions if s.hello.node_name == node)


class _TestPKI:
    def __init__(self):
        from orchestra.security.ca import create_ca
        from orchestra.security.enrolment import enrolment_root_pem
        from orchestra.security.join import JoinAuthority
        from orchestra.security.tokens import new_token
        self.ca = create_ca()
        served = self.ca.issue_server(["127.0.0.1", "localhost"])
        self.server_tls = transport.ServerTLS(served.key_pem, served.cert_pem + self.ca.cert_pem,
                                              self.ca.cert_pem + enrolment_root_pem(self.ca.fingerprint))
        self.token, record = new_token(self.ca.fingerprint, int(time.time() * 1000), ttl_seconds=0)
        self.join = JoinAuthority(self.ca, lambda tid: record if tid == record.id else None)


_PKI: list = []


def peer_pki() -> _TestPKI:
    if not _PKI:
        _PKI.append(_TestPKI())
    return _PKI[0]




class AgentProcess:
    """The real orchestra-agent, its stderr kept in a file for the test's report."""

    def __init__(self, server: str, name: str, docker_host: str, *extra: str,
                 log_dir: Path, network: str = "none"):
        self.log_path = log_dir / f"agent-{name}-{int(time.time() * 1000)}.log"
        self._log = open(self.log_path, "wb")
        argv = [sys.executable, "-m", "agent.main", "--server", server, "--name", name,
                "--docker-host", docker_host, "--network", network, "--stop-timeout", "1",
                "--token", peer_pki().token, "--state-dir", str(log_dir / f"state-{name}"),
                *extra]
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env={**os.environ,
                                                                    "PYTHONUNBUFFERED": "1"})

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> int:
        code = stop(self.proc, timeout=timeout)
        self._log.close()
        return code

    def wait(self, timeout: float = WAIT_S) -> int:
        return self.proc.wait(timeout)
