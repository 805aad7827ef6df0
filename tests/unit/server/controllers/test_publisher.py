"""Desired sets: revisions grow exactly when a node's set changes; Terminating replicas leave it."""
from __future__ import annotations

import threading

from plane_fixtures import Agents, desired_of, drain, hello, workload_json

from orchestra.api import agent_pb2
from orchestra.store.cache import not_waiting


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


def test_a_set_the_agent_acknowledged_is_not_sent_again(plane, clock):
    s = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    sent = desired_of(s)
    plane.hub.on_message(s, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
        seq=1, applied_revision=sent.revision - 1)))       # not there yet: re-sent when due
    clock.advance(6)
    plane.run_controllers_once()
    assert desired_of(s).revision == sent.revision
    for seq in range(2, 5):
        plane.hub.on_message(s, agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
            seq=seq, applied_revision=sent.revision)))
        clock.advance(6)
        plane.run_controllers_once()
        assert desired_of(s) is None
    plane.service.apply([workload_json("web", replicas=2)])   # a new revision goes at once
    assert desired_of(s).revision == sent.revision + 1


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



def _in_thread(name, fn, *args):
    t = threading.Thread(target=fn, args=args, name=name, daemon=True)
    t.start()
    return t


def test_a_publish_does_not_wait_for_another_nodes_flush(plane, clock):
    """A node's publish waiting in store.flush() (an etcd round trip, an SQLite commit) does not
    hold the publisher's lock: another node's (re)connection is published meanwhile. (It held the
    lock across flush, and 12 of 16 hub threads queued behind it at 1,000 agents.)"""
    s1 = plane.hub.open_session(hello("vm-1"))
    s2 = plane.hub.open_session(hello("vm-2"))
    drain(s1), drain(s2)
    in_flush, release = threading.Event(), threading.Event()
    flush = plane.store.flush

    def held_flush():
        if threading.current_thread().name == "publish vm-1":
            in_flush.set()
            release.wait(60)
        flush()
    plane.store.flush = held_flush
    clock.advance(6)                       # both sets due for a re-send
    first = _in_thread("publish vm-1", plane.publisher.run_once, clock(), None, "vm-1")
    try:
        assert in_flush.wait(10)
        second = _in_thread("publish vm-2", plane.publisher.run_once, clock(), None, "vm-2")
        second.join(10)
        assert not second.is_alive(), "vm-2's publish waited for vm-1's flush"
        assert desired_of(s2) is not None
        assert desired_of(s1) is None      # vm-1's: not before its own flush returned
    finally:
        release.set()
    first.join(10)
    assert desired_of(s1) is not None


def test_nothing_is_sent_before_the_store_wrote_what_it_came_from(plane, clock):
    """A set is computed and committed under the lock, and sent only after a flush that began after
    it returned: while the store's write hangs, neither the thread that computed it nor a whole pass
    in another thread sends it."""
    s1 = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    drain(s1)
    writing, release = threading.Event(), threading.Event()
    apply_batch = plane.store.backing.apply_batch

    def hanging(*a, **kw):
        writing.set()
        release.wait(60)
        return apply_batch(*a, **kw)
    plane.store.backing.apply_batch = hanging
    second = plane.store.get_replica("web-0")
    second.id, second.index = "web-1", 1
    with not_waiting():                    # a change of vm-1's set, on its way to the store
        plane.store.put_replica(second)
    try:
        assert writing.wait(10)
        publishing = _in_thread("publish vm-1", plane.publisher.run_once, clock(), None, "vm-1")
        clock.advance(6)
        whole = _in_thread("a whole pass", plane.publisher.run_once, clock())
        publishing.join(0.5)
        whole.join(0.5)
        assert plane.store.get_node("vm-1").desired_revision == 3      # computed, committed in memory
        assert desired_of(s1) is None, "a set was sent before the store wrote it"
    finally:
        release.set()
    publishing.join(10)
    whole.join(10)
    assert [r.replica_id for r in desired_of(s1).replicas] == ["web-0", "web-1"]


def test_a_set_whose_write_failed_is_never_sent(plane, clock):
    """The store fails the write a set came from (the cache reads itself back): that set is never
    sent, and the next pass sends what the store holds."""
    from orchestra.store.errors import StoreError
    s1 = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    drain(s1)
    writing, release = threading.Event(), threading.Event()
    apply_batch = plane.store.backing.apply_batch

    def failing(*a, **kw):
        writing.set()
        release.wait(60)
        raise StoreError("disk full")
    plane.store.backing.apply_batch = failing
    second = plane.store.get_replica("web-0")
    second.id, second.index = "web-1", 1
    with not_waiting():
        plane.store.put_replica(second)
    failed = []
    assert writing.wait(10)

    def publish():
        try:
            plane.publisher.run_once(clock(), node="vm-1")
        except StoreError as exc:
            failed.append(exc)
    publishing = _in_thread("publish vm-1", publish)
    publishing.join(0.3)
    plane.store.backing.apply_batch = apply_batch
    release.set()
    publishing.join(10)
    assert failed and desired_of(s1) is None
    assert plane.store.get_replica("web-1") is None
    clock.advance(6)
    plane.hub.on_message(plane.hub.sessions.get("vm-1"), agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat()))
    plane.publisher.run_once(clock())
    sent = desired_of(s1)
    assert (sent.revision, [r.replica_id for r in sent.replicas]) == (2, ["web-0"])


def test_sets_are_not_sent_when_the_cache_read_itself_back_since_they_were_computed(plane, clock):
    """A reload between computing and sending (after a batch failed elsewhere) may have dropped what
    the sets came from, even if the flush itself returned: they are not sent, and built again."""
    s1 = plane.hub.open_session(hello("vm-1"))
    drain(s1)
    in_flush, release = threading.Event(), threading.Event()
    flush = plane.store.flush

    def held_flush():
        if threading.current_thread().name == "publish vm-1":
            in_flush.set()
            release.wait(60)
        flush()
    plane.store.flush = held_flush
    clock.advance(6)
    publishing = _in_thread("publish vm-1", plane.publisher.run_once, clock(), None, "vm-1")
    assert in_flush.wait(10)
    plane.store.reload()
    release.set()
    publishing.join(10)
    assert desired_of(s1) is None
    plane.publisher.run_once(clock())
    assert desired_of(s1) is not None
