"""The scheduler controller over a real (in-memory) store: bindings, refusals said once, the
stored explanation, preemption through the real scheduler, and nodes without a session."""
from __future__ import annotations

import dataclasses
import json

from plane_fixtures import Agents, desired_of, hello, workload_json

from orchestra.scheduler import Preemption, ScheduleResult
from orchestra.store.records import RevisionRecord


def test_binding_sets_node_incarnation_explanation_and_event(plane):
    plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web", replicas=2)])
    for r in plane.store.list_replicas():
        assert (r.node, r.phase, r.incarnation) == ("vm-1", "Scheduled", 1)
        assert r.placement["node"] == "vm-1" and r.placement["summary"].startswith("placed on vm-1")
    assert "Scheduled" in [e.reason for e in plane.store.list_events(obj="web-0")]


def test_unplaceable_stays_pending_and_explains_once(plane, clock):
    plane.hub.open_session(hello("vm-1", memory=128 << 20))
    plane.service.apply([workload_json("big", memory="1Gi")])
    r = plane.store.get_replica("big-0")
    assert r.phase == "Pending" and r.node == "" and "insufficient memory" in r.reason
    assert r.placement["rejections"][0]["nodes"] == ["vm-1"]
    for _ in range(3):
        clock.advance(1)
        plane.wake()              # tried again, and again it does not fit
        plane.run_controllers_once()
    failed = [e for e in plane.store.list_events(obj="big-0") if e.reason == "FailedScheduling"]
    assert len(failed) == 1


def test_preemption_evicts_victim_to_pending(plane, clock):
    plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("low")])
    victim = plane.store.get_replica("low-0")
    assert victim.node == "vm-1"
    result = ScheduleResult(preemptions=[Preemption(victim="low-0", node="vm-1", for_replica="high-0",
                                                    reason="needs 1 CPU")])
    plane.scheduler.commit(result, [], clock())
    victim = plane.store.get_replica("low-0")
    assert (victim.node, victim.phase) == ("", "Pending") and "preempted" in victim.reason
    assert [e.reason for e in plane.store.list_events(obj="low-0")][-1] == "Preempted"


def test_higher_priority_preempts_through_the_real_scheduler(plane):
    s = plane.hub.open_session(hello("vm-1", cpu=1000))
    plane.service.apply([workload_json("low", cpu="800m")])
    assert plane.store.get_replica("low-0").node == "vm-1"
    plane.service.apply([workload_json("high", cpu="800m", priority=100)])
    high, low = plane.store.get_replica("high-0"), plane.store.get_replica("low-0")
    assert (high.node, high.phase) == ("vm-1", "Scheduled")
    assert (low.node, low.phase) == ("", "Pending") and "preempt" in low.reason.lower()
    assert high.placement["preempted"] == ["low-0"]
    assert any(e.reason == "Preempted" for e in plane.store.list_events(obj="low-0"))
    assert [c.replica_id for c in desired_of(s).replicas] == ["high-0"]


def test_cordoned_node_gets_no_new_replicas(plane):
    plane.hub.open_session(hello("vm-1"))
    plane.service.set_schedulable("vm-1", False)
    plane.service.apply([workload_json("web")])
    assert plane.store.get_replica("web-0").node == ""
    plane.service.set_schedulable("vm-1", True)
    assert plane.store.get_replica("web-0").node == "vm-1"
    reasons = [e.reason for e in plane.store.list_events(obj="vm-1")]
    assert "Cordoned" in reasons and "Uncordoned" in reasons


def test_a_node_whose_session_closed_takes_no_new_replicas(plane):
    s = plane.hub.open_session(hello("vm-1"))
    plane.hub.close_session(s)
    assert plane.store.get_node("vm-1").status == "Ready"   # not yet past its grace
    plane.service.apply([workload_json("web")])
    r = plane.store.get_replica("web-0")
    assert r.node == "" and "not ready" in r.reason.lower()
    plane.hub.open_session(hello("vm-1"))
    plane.run_controllers_once()
    assert plane.store.get_replica("web-0").node == "vm-1"


def test_a_large_pass_is_written_in_chunks_each_whole(plane, monkeypatch):
    """A backlog larger than one transaction may hold (etcd: 10,000 operations) is written in
    transactions of COMMIT_CHUNK replicas; every replica is decided, placed or not."""
    from orchestra.server.controllers import scheduler
    monkeypatch.setattr(scheduler, "COMMIT_CHUNK", 10)
    plane.hub.open_session(hello("vm-1", cpu=1000))
    commits = []
    plane.store.subscribe(lambda changes: commits.append(changes))
    plane.service.apply([workload_json("web", replicas=25, cpu="100m")])
    reps = plane.store.list_replicas(workload="web")
    placed = [r for r in reps if r.node == "vm-1"]
    waiting = [r for r in reps if not r.node]
    assert len(placed) == 10 and len(waiting) == 15
    assert all("insufficient cpu" in r.reason for r in waiting)
    binding = [c for c in commits if c and any(new is not None and getattr(new, "placement", None)
                                                for _, _, _, new in c)]
    assert len(binding) >= 3, [len(c) for c in commits]


def test_a_view_keeps_what_it_built_until_its_record_or_session_changes(plane):
    from orchestra.server.controllers.scheduler import Kept, build_view
    plane.hub.open_session(hello("vm-1"))
    plane.hub.open_session(hello("vm-2"))
    plane.service.apply([workload_json("web", replicas=2)])
    kept = Kept()

    def view():
        v = build_view(plane.store, plane.catalog, plane.failures, 0, "spread", plane.hub.connected, kept=kept)
        return {n.name: n for n in v.snapshot.nodes}, {b.replica_id: b for b in v.snapshot.bound}
    nodes, bound = view()
    again, bound_again = view()
    assert again["vm-1"] is nodes["vm-1"] and bound_again["web-0"] is bound["web-0"]
    plane.service.set_schedulable("vm-1", False)            # a new record: built again, as it is now
    plane.hub.close_session(plane.hub.sessions.get("vm-2"))  # its session closed: not ready for new replicas
    after, _ = view()
    assert after["vm-1"] is not nodes["vm-1"] and not after["vm-1"].schedulable
    assert after["vm-2"] is not nodes["vm-2"] and not after["vm-2"].ready


def _held(c):
    return (c.names, c.used_cpu.tolist(), c.used_mem.tolist(), c.ready.tolist(), c.min_priority.tolist(),
            c.workload_nodes, c.ports, [sorted(r.replica_id for r in rs) for rs in c.replicas])


def test_the_kept_cluster_follows_the_store_as_a_view_built_from_scratch_does(plane, clock):
    from orchestra.scheduler import ClusterState
    from orchestra.server.catalog import Revisions
    from orchestra.server.controllers.scheduler import Kept, KeptCluster, build_view, node_infos
    agents = Agents(plane)
    agents.join("vm-1")
    agents.join("vm-2")
    cluster, kept = KeptCluster(plane.store), Kept()

    def kept_state():
        nodes = node_infos(plane.store, plane.failures, clock(), plane.hub.connected, kept)
        kept.done()
        return cluster.state(nodes, Revisions(plane.store, plane.catalog), "spread")

    def fresh_state():
        view = build_view(plane.store, plane.catalog, plane.failures, clock(), "spread", plane.hub.connected)
        return ClusterState(view.snapshot)
    port = {"ports": [{"containerPort": 80, "hostPort": 8080}]}      # (workload_json adds it to the template)
    plane.service.apply([workload_json("web", replicas=3, probes=port), workload_json("db", replicas=2, memory="1Gi")])
    first = kept_state()
    # One node each for host port 8080: the third web replica waits.
    assert _held(first) == _held(fresh_state()) and sum(first.used_mem.tolist()) == 2 * (64 << 20) + 2 * (1 << 30)
    plane.service.apply([workload_json("web", replicas=1, probes=port)])
    plane.service.delete(["db"])
    plane.service.apply([workload_json("cache", replicas=2)])
    agents.settle(clock)           # the agents stop what is retired: those replicas go
    again = kept_state()
    assert again is first              # the same nodes: what changed was applied to the state kept
    assert _held(again) == _held(fresh_state())
    assert "db" not in again.workload_nodes and len(again.ports[(8080, "tcp")]) == 1
    assert again.workload_nodes["cache"] == {0: 1, 1: 1}
    # A spec changed under bound replicas (their revision written again): its replicas are read again.
    rev = plane.store.get(RevisionRecord, RevisionRecord("cache", 1, "", "").key)
    doc = json.loads(rev.spec_json)
    doc["spec"]["priority"] = 7
    with plane.store.transaction():
        plane.store.put(dataclasses.replace(rev, spec_json=json.dumps(doc)))
    assert kept_state() is first and _held(first) == _held(fresh_state()) and 7 in first.min_priority.tolist()
    plane.hub.close_session(plane.hub.sessions.get("vm-2"))
    rebuilt = kept_state()
    assert rebuilt is not first and _held(rebuilt) == _held(fresh_state()) and rebuilt.ready.tolist() == [True, False]
