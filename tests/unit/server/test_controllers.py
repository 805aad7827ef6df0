"""Scheduler loop, node liveness and desired sets, driven by hand over a real (in-memory) store."""
from __future__ import annotations

from plane_fixtures import hello, workload_json

from orchestra.api import agent_pb2
from orchestra.scheduler import Preemption, ScheduleResult
from orchestra.server.scheduling import apply_result


def drain(session):
    out = []
    while not session.outbox.empty():
        out.append(session.outbox.get_nowait())
    return out


def desired_of(session):
    sets = [m.desired for m in drain(session) if isinstance(m, agent_pb2.PlaneMessage) and m.HasField("desired")]
    return sets[-1] if sets else None


def test_binding_sets_node_incarnation_and_event(plane):
    plane.open_session(hello("vm-1"))
    plane.apply([workload_json("web", replicas=2)])
    for r in plane.store.list_replicas():
        assert (r.node, r.phase, r.incarnation) == ("vm-1", "Scheduled", 1)
    reasons = [e.reason for e in plane.store.list_events(obj="web-0")]
    assert "Scheduled" in reasons


def test_unplaceable_stays_pending_and_explains_once(plane, clock):
    plane.open_session(hello("vm-1", memory=128 << 20))
    plane.apply([workload_json("big", memory="1Gi")])
    r = plane.store.get_replica("big-0")
    assert r.phase == "Pending" and r.node == "" and r.reason
    for _ in range(3):
        clock.advance(1)
        plane.run_controllers_once()
    failed = [e for e in plane.store.list_events(obj="big-0") if e.reason == "FailedScheduling"]
    assert len(failed) == 1


def test_preemption_evicts_victim_to_pending(plane, clock):
    plane.open_session(hello("vm-1"))
    plane.apply([workload_json("low")])
    victim = plane.store.get_replica("low-0")
    assert victim.node == "vm-1"
    result = ScheduleResult(preemptions=[Preemption(victim="low-0", node="vm-1", for_replica="high-0",
                                                    reason="needs 1 CPU")])
    apply_result(plane.store, plane.events, result, [], clock())
    victim = plane.store.get_replica("low-0")
    assert (victim.node, victim.phase) == ("", "Pending") and "preempted" in victim.reason
    assert [e.reason for e in plane.store.list_events(obj="low-0")][-1] == "Preempted"


def test_silent_node_goes_not_ready_and_replicas_move(plane, clock):
    s1 = plane.open_session(hello("vm-1"))
    plane.apply([workload_json("web", replicas=2)])
    assert {r.node for r in plane.store.list_replicas()} == {"vm-1"}
    clock.advance(5)
    s2 = plane.open_session(hello("vm-2"))
    # vm-2 keeps talking, vm-1 is silent past the 10 s grace.
    for _ in range(3):
        clock.advance(3)
        plane.on_agent_message(s2, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(seq=1)))
    plane.run_controllers_once()
    assert plane.store.get_node("vm-1").status == "NotReady"
    for r in plane.store.list_replicas():
        assert (r.node, r.phase, r.incarnation) == ("vm-2", "Scheduled", 2)
    assert any(e.reason == "Lost" for e in plane.store.list_events(obj="web-0"))
    assert any(e.reason == "NodeNotReady" for e in plane.store.list_events(obj="vm-1"))
    # vm-1 speaks again: Ready, with an event.
    plane.on_agent_message(s1, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(seq=2)))
    assert plane.store.get_node("vm-1").status == "Ready"
    assert plane.store.list_events(obj="vm-1")[-1].reason == "NodeReady"


def test_desired_revision_grows_only_when_set_changes(plane, clock):
    s = plane.open_session(hello("vm-1"))
    first = desired_of(s)
    assert first.revision >= 1 and list(first.replicas) == []
    plane.apply([workload_json("web", replicas=2)])
    second = desired_of(s)
    assert second.revision == first.revision + 1
    assert [c.replica_id for c in second.replicas] == ["web-0", "web-1"]
    c = second.replicas[0]
    assert (c.workload, c.index, c.revision, c.incarnation, c.image) == ("web", 0, 1, 1, "local/busybox:1")
    plane.run_controllers_once()
    assert desired_of(s) is None  # nothing changed, not due for a re-send yet
    clock.advance(6)
    plane.run_controllers_once()
    assert desired_of(s).revision == second.revision  # re-sent, same revision
    assert plane.store.get_node("vm-1").desired_revision == second.revision


def test_revision_jumps_above_what_the_agent_has_applied(plane):
    h = hello("vm-1")
    h.last_revision = 41  # e.g. the plane's store was replaced
    s = plane.open_session(h)
    assert desired_of(s).revision == 42


def test_new_generation_changes_desired_spec(plane):
    s = plane.open_session(hello("vm-1"))
    plane.apply([workload_json("web")])
    drain(s)
    plane.apply([workload_json("web", memory="32Mi")])
    ds = desired_of(s)
    assert ds.replicas[0].revision == 2 and ds.replicas[0].incarnation == 1


def test_cordoned_node_gets_no_new_replicas(plane):
    plane.open_session(hello("vm-1"))
    plane.set_schedulable("vm-1", False)
    plane.apply([workload_json("web")])
    assert plane.store.get_replica("web-0").node == ""
    plane.set_schedulable("vm-1", True)
    plane.run_controllers_once()
    assert plane.store.get_replica("web-0").node == "vm-1"
    reasons = [e.reason for e in plane.store.list_events(obj="vm-1")]
    assert "Cordoned" in reasons and "Uncordoned" in reasons


def test_deleted_workload_leaves_the_desired_set(plane):
    s = plane.open_session(hello("vm-1"))
    plane.apply([workload_json("web", replicas=2)])
    assert len(desired_of(s).replicas) == 2
    plane.delete(["web"])
    assert list(desired_of(s).replicas) == []


def test_restart_resumes_pending_work(tmp_path, clock):
    # Level-triggered: a new plane over the same store finishes what the old one left.
    from orchestra.server.plane import Plane
    from orchestra.store import SqliteStore
    store = SqliteStore(str(tmp_path / "state.db"))
    first = Plane(store, clock_ms=clock)
    first.apply([workload_json("web", replicas=2)])  # no node yet: all Pending
    second = Plane(store, clock_ms=clock)
    second.open_session(hello("vm-1"))
    second.run_controllers_once()
    assert {r.node for r in store.list_replicas()} == {"vm-1"}
    store.close()


def test_higher_priority_preempts_through_the_real_scheduler(plane):
    s = plane.open_session(hello("vm-1", cpu=1000))
    plane.apply([workload_json("low", cpu="800m")])
    assert plane.store.get_replica("low-0").node == "vm-1"
    plane.apply([workload_json("high", cpu="800m", priority=100)])
    high, low = plane.store.get_replica("high-0"), plane.store.get_replica("low-0")
    assert (high.node, high.phase) == ("vm-1", "Scheduled")
    assert (low.node, low.phase) == ("", "Pending") and "preempt" in low.reason.lower()
    assert any(e.reason == "Preempted" for e in plane.store.list_events(obj="low-0"))
    assert [c.replica_id for c in desired_of(s).replicas] == ["high-0"]
