"""A tiny agent that speaks the real AgentLink protocol over real gRPC, driven by the test
(it runs no containers: it says what the test tells it to say)."""
from __future__ import annotations

import queue
import threading
import time

import grpc

from orchestra import transport
from orchestra.api import agent_pb2, agent_pb2_grpc, types_pb2

_CLOSE = object()


class ProtocolAgent:
    def __init__(self, address: str, name: str, cpu: int = 2000, memory: int = 4 << 30, last_revision: int = 0,
                 labels: dict | None = None):
        self.name = name
        from plane_process import PLANES
        self.channel = transport.client_channel(address, PLANES[address].node_tls(name))   # mutual TLS as `name`
        self.stub = agent_pb2_grpc.AgentLinkStub(self.channel)
        self.outgoing: queue.Queue = queue.Queue()
        self.received: list[agent_pb2.PlaneMessage] = []
        self.error: grpc.RpcError | None = None
        self.done = threading.Event()
        self._cond = threading.Condition()
        self.send(agent_pb2.AgentMessage(hello=agent_pb2.Hello(
            node_name=name, labels=labels or {}, agent_instance=f"{name}-test",
            capacity=types_pb2.Resources(cpu_millis=cpu, memory_bytes=memory), last_revision=last_revision,
            facts=types_pb2.NodeFacts(hostname=name, cpus=cpu // 1000, memory_bytes=memory))))
        self.call = self.stub.Session(self._requests())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _requests(self):
        while True:
            msg = self.outgoing.get()
            if msg is _CLOSE:
                return
            yield msg

    def _read(self):
        try:
            for msg in self.call:
                with self._cond:
                    self.received.append(msg)
                    self._cond.notify_all()
        except grpc.RpcError as exc:
            self.error = exc
        finally:
            self.done.set()
            with self._cond:
                self._cond.notify_all()

    def send(self, msg: agent_pb2.AgentMessage) -> None:
        self.outgoing.put(msg)

    def heartbeat(self, seq: int = 1) -> None:
        self.send(agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(seq=seq, runtime_status="available")))

    def report(self, *statuses: agent_pb2.ReplicaStatus) -> None:
        self.send(agent_pb2.AgentMessage(status=agent_pb2.StatusReport(replicas=statuses)))

    def wait_for(self, predicate, timeout: float = 30):
        """First received message (newest first) for which predicate holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for msg in reversed(self.received):
                    if predicate(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0 or self.done.is_set():
                    raise AssertionError(f"{self.name}: no matching message; got {len(self.received)} "
                                         f"messages, error={self.error}")
                self._cond.wait(min(left, 0.5))

    def wait_desired(self, predicate=lambda ds: True, timeout: float = 30) -> agent_pb2.DesiredSet:
        return self.wait_for(lambda m: m.HasField("desired") and predicate(m.desired), timeout).desired

    def close(self) -> None:
        self.outgoing.put(_CLOSE)
        self.call.cancel()
        self.done.wait(10)
        self.channel.close()
