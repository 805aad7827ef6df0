"""Desired sets: revisions grow exactly when a node's set changes; Terminating replicas leave it."""
from __future__ import annotations

from plane_fixtures import Agents, desired_of, drain, hello, workload_json


def test_desired_revision_grows_only_when_set_changes(plane, clock):
    s = plane.hub.open_session(hello("vm-1"))
    first = desired_of(s)
    assert first.revision >= 1 and list(first.replicas) == []
    plane.service.apply([workload_json("web", replicas=2)])
    second = desired_of(s)
    assert second.revision == first.revision + 1
    assert [c.replica_id for c in second.replicas] == ["web-0", "web-1"]
    c = second.replicas[0]
    assert (c.workload, c.index, c.revision, c.incarnation, c.image) == ("web", 0, 1, 1, "local/busybox:1")
    assert c.template_hash == plane.store.get_revision("web", 1).template_hash
    assert c.termination_grace_seconds == 10
    plane.run_controllers_once()
    assert desired_of(s) is None  # nothing changed, not due for a re-send yet
    clock.advance(6)
    plane.run_controllers_once()
    assert desired_of(s).revision == second.revision  # re-sent, same revision
    assert plane.store.get_node("vm-1").desired_revision == second.revision


def test_revision_jumps_above_what_the_agent_has_applied(plane):
    h = hello("vm-1")
    h.last_revision = 41  # e.g. the plane's store was replaced
    s = plane.hub.open_session(h)
    assert desired_of(s).revision == 42


def test_each_replica_runs_its_own_revision_during_a_rollout(plane, clock):
    agents = Agents(plane)
    s = agents.join("vm-1")
    plane.service.apply([workload_json("web", memory="64Mi")])
    agents.settle(clock, rounds=2)
    drain(s)
    plane.service.apply([workload_json("web", memory="32Mi")])
    ds = desired_of(s)
    by_id = {c.replica_id: c for c in ds.replicas}
    assert by_id["web-0"].revision == 1 and by_id["web-0"].resources.memory_bytes == 64 << 20
    assert by_id["web-1"].revision == 2 and by_id["web-1"].resources.memory_bytes == 32 << 20
    assert by_id["web-0"].template_hash != by_id["web-1"].template_hash


def test_probes_travel_to_the_agent(plane):
    s = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web", probes={"readinessProbe": {"httpGet": {"path": "/ok", "port": 8080},
                                                                         "periodSeconds": 2}})])
    [c] = desired_of(s).replicas
    assert (c.readiness_probe.http_get.path, c.readiness_probe.http_get.port) == ("/ok", 8080)
    assert (c.readiness_probe.period_seconds, c.readiness_probe.failure_threshold) == (2, 3)
    assert not c.HasField("liveness_probe")


def test_a_terminating_replica_leaves_the_set_and_learns_its_stop_revision(plane, clock):
    agents = Agents(plane)
    s = agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2)])
    agents.settle(clock, rounds=2)
    drain(s)
    plane.service.apply([workload_json("web", replicas=1)])
    ds = desired_of(s)
    assert [c.replica_id for c in ds.replicas] == ["web-0"]
    assert plane.store.get_replica("web-1").stop_revision == ds.revision
