"""Node liveness: silence past the grace -> NotReady and replicas lost (one owner of the status)."""
from __future__ import annotations

from plane_fixtures import Agents, drain, hello, workload_json

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


def test_heartbeats_of_a_ready_node_write_nothing_and_the_api_shows_the_last(plane, clock):
    s = plane.hub.open_session(hello("vm-1"))
    written = plane.store.get_node("vm-1").last_heartbeat_ms
    commits = []
    plane.store.subscribe(commits.append)
    for _ in range(4):
        clock.advance(3)
        beat(plane, s)
    assert commits == []                        # nothing written: when it was heard is memory only
    assert plane.store.get_node("vm-1").last_heartbeat_ms == written
    assert plane.service.list_nodes().nodes[0].last_heartbeat_ms == clock()
    assert plane.service.describe_node("vm-1").node.last_heartbeat_ms == clock()


def test_a_ready_that_the_store_lost_is_written_again_by_the_next_heartbeat(plane, clock):
    s = plane.hub.open_session(hello("vm-1"))
    with plane.store.transaction():             # as after a failed write read back from the backend
        rec = plane.store.get_node("vm-1")
        rec.status = "NotReady"
        plane.store.put_node(rec)
    clock.advance(1)
    beat(plane, s)
    assert plane.store.get_node("vm-1").status == "Ready"
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


def _commits_of(plane):
    """Every commit the cache tells of, as the list of (kind, key) it changed."""
    commits = []
    plane.store.subscribe(lambda changes: commits.append([] if changes is None else
                                                          [(cls.__name__, key) for cls, key, _, _ in changes]))
    return commits


def test_many_silent_nodes_are_marked_in_one_transaction_with_their_replicas(plane, clock):
    """100 nodes lost at once: one transaction marks them all NotReady and loses all their replicas
    (it was one transaction per node, each waiting for its write while heartbeats waited behind)."""
    for i in range(100):
        plane.hub.open_session(hello(f"lost-{i}"))
    plane.service.apply([workload_json("web", replicas=200)])
    assert {r.node for r in plane.store.list_replicas()} == {f"lost-{i}" for i in range(100)}
    clock.advance(5)
    keeper = plane.hub.open_session(hello("keeper", cpu=64_000, memory=256 << 30))
    clock.advance(6)
    beat(plane, keeper)            # the 100 are silent past the 10 s grace, keeper is not
    commits = _commits_of(plane)
    batches = []
    real = plane.store.backing.apply_batch
    plane.store.backing.apply_batch = lambda *a, **kw: (batches.append(a), real(*a, **kw))[1]
    marked = plane.liveness.run_once(clock())
    assert sorted(marked) == sorted(f"lost-{i}" for i in range(100))
    assert len(commits) == 1 and len(batches) == 1
    assert sum(1 for kind, _ in commits[0] if kind == "NodeRecord") == 100
    assert sum(1 for kind, _ in commits[0] if kind == "ReplicaRecord") == 200
    assert all(plane.store.get_node(f"lost-{i}").status == "NotReady" for i in range(100))
    assert plane.store.get_node("keeper").status == "Ready"
    assert all(r.phase == "Pending" and not r.node for r in plane.store.list_replicas())
    plane.run_controllers_once()
    assert {r.node for r in plane.store.list_replicas()} == {"keeper"}


def test_marking_is_chunked_so_that_a_transaction_fits_one_etcd_txn(plane, clock, monkeypatch):
    """At most COMMIT_CHUNK records (nodes and their replicas) a transaction, each node whole with its
    replicas; every silent node is marked."""
    from orchestra.server.controllers import liveness
    monkeypatch.setattr(liveness, "COMMIT_CHUNK", 7)
    for i in range(6):
        plane.hub.open_session(hello(f"vm-{i}"))
    plane.service.apply([workload_json("web", replicas=12)])       # spread: 2 a node, 3 records each
    was_on = {r.id: r.node for r in plane.store.list_replicas()}
    clock.advance(11)
    commits = _commits_of(plane)
    assert len(plane.liveness.run_once(clock())) == 6
    assert [sum(1 for kind, _ in c if kind == "NodeRecord") for c in commits] == [2, 2, 2]
    for c in commits:
        nodes = {key for kind, key in c if kind == "NodeRecord"}
        lost = {key for kind, key in c if kind == "ReplicaRecord"}
        assert len(lost) == 4 and len(c) <= 7
        assert {was_on[r] for r in lost} == nodes      # each node with its own replicas
    assert all(n.status == "NotReady" for n in plane.store.list_nodes())


def test_a_heartbeat_that_waits_for_a_hub_thread_already_counts(plane, clock):
    """Received (the event loop calls hub.heard) but not yet handled: the node is alive, liveness
    must not mark it NotReady because the hub's threads are behind."""
    s = plane.hub.open_session(hello("vm-1"))
    clock.advance(9)
    plane.hub.heard(s)             # a heartbeat arrived; its on_message waits in the hub's queue
    clock.advance(9)               # 18 s after the last handled message, 9 s after the last received
    assert plane.liveness.run_once(clock()) == []
    assert plane.store.get_node("vm-1").status == "Ready"
    clock.advance(2)
    assert plane.liveness.run_once(clock()) == ["vm-1"]


def test_a_replaced_session_does_not_count_as_heard(plane, clock):
    old = plane.hub.open_session(hello("vm-1"))
    plane.hub.open_session(hello("vm-1"))
    seen = plane.liveness.last_seen("vm-1")
    clock.advance(3)
    plane.hub.heard(old)
    assert plane.liveness.last_seen("vm-1") == seen


def test_the_session_of_a_node_made_not_ready_is_ended(plane, clock):
    """A peer that went away without closing its stream (a VM destroyed under it) leaves a session
    nothing is written on: it ends when the node goes NotReady, so the node shows as disconnected."""
    from orchestra.server.sessions import SessionEnd
    silent = plane.hub.open_session(hello("vm-1"))
    talking = plane.hub.open_session(hello("vm-2"))
    for _ in range(4):
        clock.advance(3)
        beat(plane, talking)
    plane.run_controllers_once()
    assert plane.store.get_node("vm-1").status == "NotReady"
    ends = [m for m in drain(silent) if isinstance(m, SessionEnd)]
    assert len(ends) == 1 and ends[0].code.name == "UNAVAILABLE" and "node grace" in ends[0].message
    assert not [m for m in drain(talking) if isinstance(m, SessionEnd)]
