"""Endpoints: computed from ready replicas of selected workloads, sent whole to every node, and a
retired replica held running until every node has stopped routing to it."""
from __future__ import annotations

import json

from plane_fixtures import Agents, drain, hello, workload_json

from orchestra.api import agent_pb2

SERVICE = json.dumps({"apiVersion": "orchestra/v1", "kind": "Service", "metadata": {"name": "web"},
                      "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})


def web(env: str = "a", replicas: int = 2) -> str:
    doc = json.loads(workload_json("web", replicas=replicas))
    doc["metadata"]["labels"] = {"app": "web"}
    doc["spec"]["template"]["env"] = {"V": env}
    return json.dumps(doc)


class Nodes(Agents):
    """Agents that advertise addresses and acknowledge endpoints revisions (unless told not to)."""

    def __init__(self, plane):
        super().__init__(plane)
        self.endpoints: dict = {}
        self.silent: set = set()      # nodes that never acknowledge

    def join(self, name: str, **kw):
        h = hello(name, **kw)
        h.advertise_address, h.relay_port = f"10.0.0.{len(self.sessions) + 1}", 7471
        s = self.plane.hub.open_session(h)
        self.sessions[name] = s
        return s

    def answer(self) -> None:
        for name, s in self.sessions.items():
            queued = []
            while not s.outbox.empty():
                queued.append(s.outbox.get_nowait())
            for m in queued:
                if isinstance(m, agent_pb2.PlaneMessage) and m.HasField("endpoints"):
                    self.endpoints[name] = m.endpoints
                elif isinstance(m, agent_pb2.PlaneMessage) and m.HasField("desired"):
                    self.sets[name] = m.desired
            if name in self.endpoints and name not in self.silent:
                self.plane.hub.on_message(s, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
                    endpoints_revision=self.endpoints[name].revision)))
        for name in self.sessions:
            s = self.sessions[name]
            for m in [s.outbox.get_nowait() for _ in range(s.outbox.qsize())]:
                s.outbox.put(m)
        super().answer()

    def routed(self, name: str) -> set[str]:
        eps = self.endpoints.get(name)
        return {e.replica_id for svc in eps.services for e in svc.endpoints} if eps else set()

    def running(self, name: str) -> set[str]:
        return {r.replica_id for r in self.sets[name].replicas} if name in self.sets else set()


def setup(plane, clock):
    nodes = Nodes(plane)
    nodes.join("n1")
    nodes.join("n2")
    plane.service.apply([web(), SERVICE])
    nodes.settle(clock)
    return nodes


def test_every_node_gets_the_ready_replicas_of_selected_workloads(plane, clock):
    nodes = setup(plane, clock)
    assert nodes.routed("n1") == nodes.routed("n2") == {"web-0", "web-1"}
    [svc] = nodes.endpoints["n1"].services
    assert svc.virtual_address == "10.96.1.1" and [p.target_port for p in svc.ports] == [8080]
    assert {e.address for e in svc.endpoints} == {"10.0.0.1", "10.0.0.2"}
    nodes.override["web-0"] = {"ready": False}
    nodes.settle(clock, rounds=3)
    assert nodes.routed("n1") == nodes.routed("n2") == {"web-1"}
    [info] = plane.service.list_services().services
    [ep0] = [e for e in info.endpoints if e.replica_id == "web-0"]
    assert not ep0.ready and "not ready" in ep0.reason


def test_a_retired_replica_runs_until_every_node_acknowledged_a_revision_without_it(plane, clock):
    nodes = setup(plane, clock)
    nodes.silent = {"n2"}
    plane.service.apply([web(replicas=1)])       # scale down: one replica retired
    nodes.settle(clock, rounds=3, step_s=1)
    [rid] = {"web-0", "web-1"} - nodes.routed("n1")
    holder = plane.store.get_replica(rid).node
    assert rid in nodes.running(holder), "stopped before every node stopped routing to it"
    nodes.silent = set()
    nodes.settle(clock, rounds=3)
    assert rid not in nodes.running(holder)


def test_a_silent_node_holds_a_stop_at_most_the_node_grace(plane, clock):
    nodes = setup(plane, clock)
    nodes.silent = {"n2"}
    plane.service.apply([web(replicas=1)])
    nodes.settle(clock, rounds=2, step_s=1)
    [rid] = {"web-0", "web-1"} - nodes.routed("n1")
    node = plane.store.get_replica(rid).node
    assert rid in nodes.running(node)
    nodes.settle(clock, rounds=12, step_s=1)      # past the 10 s grace (n2 keeps sending heartbeats)
    assert rid not in nodes.running(node)


def test_the_revision_grows_only_when_the_set_changes(plane, clock):
    nodes = setup(plane, clock)
    first = nodes.endpoints["n1"].revision
    nodes.settle(clock, rounds=5)
    assert nodes.endpoints["n1"].revision == first
    plane.service.delete([], [("Service", "web")])
    nodes.settle(clock, rounds=2)
    assert nodes.endpoints["n1"].revision > first and not nodes.endpoints["n1"].services


def endpoints_sent(session) -> list[int]:
    return [m.endpoints.revision for m in drain(session) if isinstance(m, agent_pb2.PlaneMessage)
            and m.HasField("endpoints")]


def test_endpoints_the_agent_acknowledged_are_not_sent_again(plane, clock):
    s = plane.hub.open_session(hello("n1"))
    plane.run_controllers_once()
    [revision] = endpoints_sent(s)[-1:]
    clock.advance(6)
    plane.run_controllers_once()
    assert endpoints_sent(s) == [revision]        # not acknowledged yet: re-sent when due
    for seq in range(1, 4):
        plane.hub.on_message(s, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
            seq=seq, endpoints_revision=revision)))
        clock.advance(6)
        plane.run_controllers_once()
        assert endpoints_sent(s) == []
