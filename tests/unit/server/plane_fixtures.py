"""Helpers of the server unit tests: a hand-driven clock, workload documents, Hello messages."""
from __future__ import annotations

import json

from orchestra.api import agent_pb2, types_pb2


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


