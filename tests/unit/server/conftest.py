"""A plane over an in-memory SQLite store with a hand-driven clock (no background loop)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from orchestra.api import agent_pb2, types_pb2  # noqa: E402
from orchestra.server.plane import Plane  # noqa: E402
from orchestra.store import SqliteStore  # noqa: E402


class Clock:
    def __init__(self, ms: int = 1_000_000):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


def workload_json(name: str, replicas: int = 1, cpu: str = "100m", memory: str = "64Mi", **spec) -> str:
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name},
           "spec": {"replicas": replicas,
                    "template": {"image": "local/busybox:1", "command": ["sleep", "3600"],
                                 "resources": {"cpu": cpu, "memory": memory}}, **spec}}
    return json.dumps(doc)


def hello(name: str, cpu: int = 2000, memory: int = 4 << 30, **labels) -> agent_pb2.Hello:
    return agent_pb2.Hello(node_name=name, labels=labels, agent_instance=f"{name}-agent",
                           capacity=types_pb2.Resources(cpu_millis=cpu, memory_bytes=memory),
                           facts=types_pb2.NodeFacts(hostname=name, cpus=cpu // 1000))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def plane(clock):
    store = SqliteStore(":memory:")
    p = Plane(store, node_grace_ms=10_000, clock_ms=clock)
    yield p
    store.close()
