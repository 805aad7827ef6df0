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


def workload_json(name: str, replicas: int | None = 1, cpu: str = "100m", memory: str = "64Mi",
                  probes: dict | None = None, command: tuple[str, ...] = ("sleep", "3600"), **spec) -> str:
    """A workload document; `probes` are added to the template (e.g. {"readinessProbe": {...}})."""
    template = {"image": "local/busybox:1", "command": list(command), "resources": {"cpu": cpu, "memory": memory},
                **(probes or {})}
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name},
           "spec": {**({"replicas": replicas} if replicas is not None else {}), "template": template, **spec}}
    return json.dumps(doc)


def hello(name: str, cpu: int = 2000, memory: int = 4 << 30, **labels) -> agent_pb2.Hello:
    return agent_pb2.Hello(node_name=name, labels=labels, agent_instance=f"{name}-agent",
                           capacity=types_pb2.Resources(cpu_millis=cpu, memory_bytes=memory),
                           facts=types_pb2.NodeFacts(hostname=name, cpus=cpu // 1000))




def status(replica: str, incarnation: int, phase: str = "Running", ready: bool | None = None, **kw):
    """A ReplicaStatus as an agent sends it; Running means ready unless told otherwise."""
    if ready is None:
        ready = phase == "Running"
    return agent_pb2.ReplicaStatus(replica_id=replica, incarnation=incarnation, phase=phase, ready=ready, **kw)


def report(plane, session, *statuses, revision: int = 0) -> None:
    plane.hub.on_message(session, agent_pb2.AgentMessage(status=agent_pb2.StatusReport(
        revision=revision, replicas=statuses)))


def drain(session) -> list:
    out = []
    while not session.outbox.empty():
        out.append(session.outbox.get_nowait())
    return out


def desired_of(session):
    """The newest desired set queued for the session since the last call (None if none)."""
    sets = [m.desired for m in drain(session) if isinstance(m, agent_pb2.PlaneMessage) and m.HasField("desired")]
    return sets[-1] if sets else None


class Agents:
    """Stands in for the agents of a unit test: answers every node's newest desired set with a full
    report in which each desired replica is Running and ready (or what `override` says), and
    terminating ones are gone. The plane's logic is under test here, not an agent's."""

    def __init__(self, plane):
        self.plane = plane
        self.sessions: dict = {}
        self.sets: dict = {}
        self.override: dict = {}      # replica id, or ("revision", n) -> dict of ReplicaStatus fields

    def join(self, name: str, **kw):
        s = self.plane.hub.open_session(hello(name, **kw))
        self.sessions[name] = s
        return s

    def answer(self) -> None:
        for name, s in self.sessions.items():
            ds = desired_of(s)
            if ds is not None:
                self.sets[name] = ds
            ds = self.sets.get(name)
            if ds is None or s.ended.is_set():
                continue
            statuses = []
            for spec in ds.replicas:
                fields = {"phase": "Running", "container_id": f"c-{spec.replica_id}-{spec.incarnation}"}
                fields.update(self.override.get(("revision", spec.revision), {}))
                fields.update(self.override.get(spec.replica_id, {}))
                statuses.append(status(spec.replica_id, spec.incarnation, **fields))
            report(self.plane, s, *statuses, revision=ds.revision)

    def settle(self, clock, rounds: int = 10, step_s: float = 1.0) -> None:
        for _ in range(rounds):
            self.answer()
            clock.advance(step_s)
            self.plane.run_controllers_once()
