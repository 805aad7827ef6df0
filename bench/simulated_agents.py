"""Simulated agents for bench/plane_scale.py: many nodes in one process, each speaking the
real AgentLink protocol (protos/orchestra/v1/agent.proto) over real gRPC with mutual TLS, on
one asyncio loop (no thread per node). The runtime is fake: a replica in a node's desired
set is reported Running at once, and uses a fixed little CPU and memory. Benchmarks only; no
test may stand on it.

What a node says, and when, follows the real agent (agent/session.py):
  Hello first; Heartbeat every heartbeat interval (from Welcome), with the desired and Endpoints
  revisions it has; a StatusReport when its desired set changed and at least every 10 s; a
  UsageReport every usage interval; LogRequests are answered with an error (a simulated node
  keeps no logs).
Every message a node sends is built in the "messages" section below, one function each: when
the protocol gains a field (readiness, probe results), that is the one place to set it.

Run by plane_scale.py as a worker process:
    python bench/simulated_agents.py --server ADDR --data-dir PLANE_DATA --first 0 --count 250
It issues its nodes' certificates from the plane's CA in PLANE_DATA/pki (as Join would), and
talks to its parent in JSON lines: it prints {"ready": n} once every node was welcomed, then
{"running": r, "sessions": s, ...} every half second; it reads commands from stdin:
    kill NAME NAME ...     those nodes vanish at once (stream cut, no goodbye), as a machine would
    quit
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("GRPC_VERBOSITY", "NONE")
import grpc  # noqa: E402

from orchestra import transport  # noqa: E402
from orchestra.api import agent_pb2, agent_pb2_grpc, types_pb2  # noqa: E402

STATUS_EVERY_S = 10.0
NODE_CPU_MILLIS = 16_000
NODE_MEMORY = 64 << 30


def node_name(i: int) -> str:
    return f"sim-{i:05d}"


# -- messages: everything a simulated node says ---------------------------------------------------
def hello(node: "Node") -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(hello=agent_pb2.Hello(
        node_name=node.name, labels=node.labels, agent_instance=node.instance, last_revision=node.revision,
        capacity=types_pb2.Resources(cpu_millis=NODE_CPU_MILLIS, memory_bytes=NODE_MEMORY),
        facts=types_pb2.NodeFacts(hostname=node.name, cpus=NODE_CPU_MILLIS // 1000, memory_bytes=NODE_MEMORY,
                                  kernel="sim", os="simulated", docker_version="none",
                                  agent_version="bench", architecture="x86_64")))


def heartbeat(node: "Node") -> agent_pb2.AgentMessage:
    node.seq += 1
    return agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
        seq=node.seq, runtime_status="available", applied_revision=node.revision,
        endpoints_revision=node.endpoints_revision))


def replica_status(spec: agent_pb2.ContainerSpec) -> agent_pb2.ReplicaStatus:
    # Running and ready at once: a fake container has no probes (a real agent's ready waits for them).
    return agent_pb2.ReplicaStatus(replica_id=spec.replica_id, phase="Running", ready=True,
                                   incarnation=spec.incarnation,
                                   container_id=f"sim-{spec.replica_id}-{spec.incarnation}")


def status_report(node: "Node") -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(status=agent_pb2.StatusReport(
        revision=node.revision, runtime_status="available",
        replicas=[replica_status(s) for s in node.desired.values()]))


def usage_report(node: "Node") -> agent_pb2.AgentMessage:
    now_ms = int(time.time() * 1000)
    used = sum(s.resources.memory_bytes // 4 for s in node.desired.values())
    return agent_pb2.AgentMessage(usage=agent_pb2.UsageReport(
        node=types_pb2.NodeUsage(cpu_percent=1.0 + 0.1 * len(node.desired), memory_used_bytes=(256 << 20) + used,
                                 memory_total_bytes=NODE_MEMORY, sampled_at_ms=now_ms),
        replicas=[agent_pb2.ReplicaUsage(replica_id=s.replica_id, usage=types_pb2.ContainerUsage(
            cpu_percent=0.5, memory_bytes=s.resources.memory_bytes // 4,
            memory_limit_bytes=s.resources.memory_bytes, sampled_at_ms=now_ms)) for s in node.desired.values()]))


def log_refusal(request: agent_pb2.LogRequest) -> agent_pb2.AgentMessage:
    return agent_pb2.AgentMessage(log=agent_pb2.LogData(
        request_id=request.request_id, replica_id=request.replica_id, eof=True,
        error="a simulated node keeps no logs"))


# -- one node -------------------------------------------------------------------------------------
@dataclass
class Node:
    name: str
    tls: transport.ClientTLS
    labels: dict[str, str] = field(default_factory=dict)
    instance: str = field(default_factory=lambda: os.urandom(6).hex())
    revision: int = 0
    endpoints_revision: int = 0
    seq: int = 0
    desired: dict[str, agent_pb2.ContainerSpec] = field(default_factory=dict)
    welcomed: bool = False
    killed: bool = False
    sessions: int = 0
    errors: int = 0
    last_error: str = ""
    task: asyncio.Task | None = None


class Simulator:
    def __init__(self, server: str, nodes: list[Node]):
        self.server = server
        self.nodes = {n.name: n for n in nodes}
        self.welcomed = asyncio.Event()
        self.bug_told = False

    def running(self) -> int:
        return sum(len(n.desired) for n in self.nodes.values() if not n.killed)

    async def run_node(self, node: Node) -> None:
        """Sessions until killed; between them the real agent's back-off (0.5 s doubling to 10 s)."""
        backoff = 0.5
        while not node.killed:
            try:
                await self.session(node)
                backoff = 0.5
            except grpc.aio.AioRpcError as exc:
                node.errors += 1
                node.last_error = f"{exc.code().name}: {exc.details()}"[:200]
            except ConnectionError as exc:
                node.errors += 1
                node.last_error = str(exc)[:200]
            except Exception as exc:   # noqa: BLE001 - a bug here (e.g. a message field the protocol lost)
                # must not end the node's task in silence: it would stop talking (and look like a plane stall).
                node.errors += 1
                node.last_error = f"simulator bug: {exc!r}"[:200]
                if not self.bug_told:
                    self.bug_told = True
                    traceback.print_exc(file=sys.stderr)
            if node.killed:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def session(self, node: Node) -> None:
        channel = grpc.aio.secure_channel(self.server, grpc.ssl_channel_credentials(
            root_certificates=node.tls.ca_pem, private_key=node.tls.key_pem, certificate_chain=node.tls.cert_pem),
            options=transport.CHANNEL_OPTIONS)
        outgoing: asyncio.Queue = asyncio.Queue()
        call = agent_pb2_grpc.AgentLinkStub(channel).Session()
        node.sessions += 1
        beats: list[asyncio.Task] = []

        async def writer():
            while True:
                msg = await outgoing.get()
                await call.write(msg)

        async def every(seconds: float, make, first_after: float):
            await asyncio.sleep(first_after)
            while True:
                outgoing.put_nowait(make(node))
                await asyncio.sleep(seconds)

        write_task = asyncio.ensure_future(writer())
        try:
            outgoing.put_nowait(hello(node))
            while True:
                msg = await call.read()
                if msg is grpc.aio.EOF:
                    return
                kind = msg.WhichOneof("msg")
                if kind == "welcome":
                    hb = (msg.welcome.heartbeat_interval_ms or 2000) / 1000
                    usage = (msg.welcome.usage_interval_ms or 5000) / 1000
                    # Spread the nodes' timers, as real agents that started at different times are.
                    phase = (hash(node.name) % 1000) / 1000
                    beats = [asyncio.ensure_future(every(hb, heartbeat, hb * phase)),
                             asyncio.ensure_future(every(usage, usage_report, usage * phase)),
                             asyncio.ensure_future(every(STATUS_EVERY_S, status_report, STATUS_EVERY_S * phase))]
                    if not node.welcomed:
                        node.welcomed = True
                        if all(n.welcomed for n in self.nodes.values()):
                            self.welcomed.set()
                elif kind == "desired":
                    ds = msg.desired
                    if ds.revision >= node.revision:
                        node.revision = ds.revision
                        node.desired = {s.replica_id: s for s in ds.replicas}
                        outgoing.put_nowait(status_report(node))
                elif kind == "endpoints":
                    # As the real agent: it routes by the newest revision, and says so in its heartbeats.
                    node.endpoints_revision = max(node.endpoints_revision, msg.endpoints.revision)
                elif kind == "log_request":
                    outgoing.put_nowait(log_refusal(msg.log_request))
                elif kind == "refusal":
                    node.errors += 1
                    node.last_error = f"refused: {msg.refusal.reason}"
                    return
        finally:
            for t in beats + [write_task]:
                t.cancel()
            call.cancel()
            await channel.close(grace=None)

    def kill(self, names: list[str]) -> None:
        for name in names:
            node = self.nodes.get(name)
            if node is not None and not node.killed:
                node.killed = True
                node.desired = {}
                if node.task is not None:
                    node.task.cancel()


def issue_certificates(data_dir: str, names: list[str]) -> dict[str, transport.ClientTLS]:
    """Node certificates from the plane's own CA, as its Join would issue them."""
    from orchestra.security.ca import ROLE_NODE, load_ca
    pki = Path(data_dir) / "pki"
    ca = load_ca((pki / "ca.crt").read_bytes(), (pki / "ca.key").read_bytes())
    out = {}
    for name in names:
        issued = ca.issue_client(name, ROLE_NODE)
        out[name] = transport.ClientTLS(ca_pem=ca.cert_pem, key_pem=issued.key_pem, cert_pem=issued.cert_pem)
    return out


async def main_async(args) -> None:
    names = [node_name(i) for i in range(args.first, args.first + args.count)]
    certs = issue_certificates(args.data_dir, names)
    zones = ["a", "b", "c", "d"]
    nodes = [Node(name=n, tls=certs[n], labels={"zone": zones[i % len(zones)]}) for i, n in enumerate(names)]
    sim = Simulator(args.server, nodes)
    loop = asyncio.get_running_loop()
    for i, node in enumerate(nodes):
        node.task = asyncio.ensure_future(sim.run_node(node))
        if i % 50 == 49:
            await asyncio.sleep(0.05)   # do not open every TLS handshake in the same instant

    def say(obj) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    async def reporter():
        await sim.welcomed.wait()
        say({"ready": len(nodes)})
        while True:
            errors = sum(n.errors for n in nodes)
            last = next((n.last_error for n in nodes if n.last_error), "")
            say({"running": sim.running(), "sessions": sum(n.sessions for n in nodes),
                 "errors": errors, "last_error": last, "t": time.time()})
            await asyncio.sleep(0.5)

    asyncio.ensure_future(reporter())
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "quit":
            break
        cmd, *rest = line.split()
        if cmd == "kill":
            sim.kill(rest)
    sim.kill(list(sim.nodes))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--count", type=int, default=100)
    args = ap.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
