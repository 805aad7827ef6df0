"""Node liveness: silence past the grace -> NotReady and replicas lost (one owner of the status)."""
from __future__ import annotations

from plane_fixtures import Agents, hello, workload_json

from orchestra.api import agent_pb2


def beat(plane, session):
    plane.hub.on_message(session, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(seq=1)))


def test_silent_node_goes_not_ready_and_replicas_move(plane, clock):
    s1 = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web", replicas=2)])
    assert {r.node for r in plane.store.list_replicas()} == {"vm-1"}
    clock.advance(5)
    s2 = plane.hub.open_session(hello("vm-2"))
    for _ in range(3):         # vm-2 keeps talking, vm-1 is silent past the 10 s grace
        clock.advance(3)
        beat(plane, s2)
    plane.run_controllers_once()
    assert plane.store.get_node("vm-1").status == "NotReady"
    for r in plane.store.list_replicas():
        assert (r.node, r.phase, r.incarnation) == ("vm-2", "Scheduled", 2)
    assert any(e.reason == "Lost" for e in plane.store.list_events(obj="web-0"))
    assert any(e.reason == "NodeNotReady" for e in plane.store.list_events(obj="vm-1"))
    beat(plane, s1)            # vm-1 speaks again: Ready, with an event
    assert plane.store.get_node("vm-1").status == "Ready"
    assert plane.store.list_events(obj="vm-1")[-1].reason == "NodeReady"


def test_heartbeats_of_a_ready_node_touch_the_store_only_now_and_then(plane, clock):
    s = plane.hub.open_session(hello("vm-1"))
    written = plane.store.get_node("vm-1").last_heartbeat_ms
    clock.advance(1)
    beat(plane, s)
    assert plane.store.get_node("vm-1").last_heartbeat_ms == written
    clock.advance(5)
    beat(plane, s)
    assert plane.store.get_node("vm-1").last_heartbeat_ms == clock()


def test_a_stopping_replica_on_a_lost_node_is_removed(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web")])
    agents.settle(clock, rounds=2)
    agents.sessions.clear()            # the agent goes silent
    plane.service.delete(["web"])
    assert plane.store.get_replica("web-0").phase == "Terminating"
    clock.advance(11)
    plane.run_controllers_once()
    assert plane.store.get_replica("web-0") is None
    plane.run_controllers_once()
    assert plane.store.get_workload("web") is None


def test_after_a_plane_restart_agents_get_time_to_reconnect(tmp_path, clock):
    from orchestra.server.plane import Plane
    from orchestra.store import SqliteStore
    store = SqliteStore(str(tmp_path / "state.db"))
    first = Plane(store, node_grace_ms=10_000, clock_ms=clock)
    first.hub.open_session(hello("vm-1"))
    second = Plane(store, node_grace_ms=10_000, clock_ms=clock)      # the plane restarted
    clock.advance(15)              # past the grace, but an agent backing off may not have dialled yet
    second.run_controllers_once()
    assert store.get_node("vm-1").status == "Ready"
    clock.advance(10)
    second.run_controllers_once()
    assert store.get_node("vm-1").status == "NotReady"
    store.close()
