"""The plane's in-memory state in front of a real SQLite store: reads from memory, rollbacks,
group commit, a failed batch (the backend refusing it, as a full disk does) and reloads.
The store contract itself runs over the cache in tests/integration/store/test_contract.py."""
from __future__ import annotations

import threading
import time

import pytest

from orchestra.store import NodeRecord, ReplicaRecord, SqliteStore, StoreError, WorkloadRecord
from orchestra.store.cache import CachedStore, never_wait


class RefusingStore(SqliteStore):
    """A real SQLite store whose batches fail while `refuse` is set, as when its disk is full."""

    def __init__(self, path: str):
        super().__init__(path)
        self.refuse = ""
        self.batches = 0
        self.unreadable = False

    def apply_batch(self, puts, deletes, events):
        if self.refuse:
            raise StoreError(self.refuse)
        self.batches += 1
        super().apply_batch(puts, deletes, events)

    def list(self, cls, **where):
        if self.unreadable:
            raise StoreError("cannot read: the disk went away")
        return super().list(cls, **where)


@pytest.fixture
def backing(tmp_path):
    s = RefusingStore(str(tmp_path / "state.db"))
    yield s
    s.close()


@pytest.fixture
def cache(backing):
    c = CachedStore(backing)
    yield c
    c.close()


def test_it_starts_from_what_the_backend_holds_and_writes_through(backing):
    backing.put(NodeRecord(name="n1", labels={"zone": "a"}))
    backing.add_event(1, "Node", "n1", "Normal", "Registered", "hello")
    cache = CachedStore(backing)
    assert cache.get_node("n1").labels == {"zone": "a"}
    assert cache.last_event_id() == 1
    cache.put(ReplicaRecord(id="web-0", workload="web", index=0, node="n1"))
    cache.add_event(2, "Replica", "web-0", "Normal", "Scheduled", "bound")
    # A committer that may wait returns once its change is written.
    assert backing.get_replica("web-0").node == "n1"
    assert [e.id for e in backing.list_events()] == [1, 2]
    cache.close()


def test_reads_are_copies_and_indexes_follow_changes(cache):
    cache.put(ReplicaRecord(id="web-0", workload="web", index=0, node="n1", placement={"cpu": 1}))
    r = cache.get_replica("web-0")
    r.placement["cpu"] = 99
    r.node = "n2"
    assert cache.get_replica("web-0").placement == {"cpu": 1} and cache.get_replica("web-0").node == "n1"
    cache.put(r)
    assert [x.id for x in cache.list_replicas(node="n2")] == ["web-0"]
    assert cache.list_replicas(node="n1") == []
    r.node = "n3"                               # changing a record after put changes nothing stored
    assert cache.get_replica("web-0").node == "n2"
    assert cache.delete_replica("web-0") and cache.list_replicas(node="n2") == []


def test_views_are_the_cache_own_records_and_stay_as_they_were_read(cache):
    cache.put(ReplicaRecord(id="web-0", workload="web", index=0, node="n1"))
    cache.put(ReplicaRecord(id="web-1", workload="web", index=1))
    seen = cache.view_replicas(workload="web")
    assert [r.id for r in seen] == ["web-0", "web-1"]
    assert cache.view_replicas(workload="web")[0] is seen[0]           # no copy each
    assert [r.id for r in cache.view_replicas(bound=True)] == ["web-0"]
    assert [r.id for r in cache.view_replicas(bound=False)] == ["web-1"]
    assert cache.peek(ReplicaRecord, "web-0") is seen[0] and cache.peek(ReplicaRecord, "nope") is None
    r = cache.get_replica("web-0")
    r.node = "n2"
    cache.put(r)                                 # a put replaces the record: the view read before is unchanged
    assert seen[0].node == "n1" and cache.peek(ReplicaRecord, "web-0").node == "n2"
    with pytest.raises(RuntimeError):
        with cache.transaction():
            r.node = "n3"
            cache.put(r)
            raise RuntimeError("rolled back")
    assert cache.peek(ReplicaRecord, "web-0").node == "n2"
    assert cache.delete_replica("web-1") and seen[1].id == "web-1"
    assert [n.name for n in cache.view_nodes()] == [] and cache.view_workloads() == []


def test_a_store_without_memory_views_copies(backing):
    backing.put(NodeRecord(name="n1"))
    assert backing.view_nodes()[0] is not backing.view_nodes()[0]
    assert backing.peek(NodeRecord, "n1").name == "n1"


def test_a_rollback_puts_memory_back(cache):
    cache.put(WorkloadRecord(name="web", spec_json="{}", generation=1))
    before = cache.last_event_id()
    with pytest.raises(RuntimeError):
        with cache.transaction():
            w = cache.get_workload("web")
            w.generation = 2
            cache.put_workload(w)
            cache.put_replica(ReplicaRecord(id="web-0", workload="web", index=0, node="n1"))
            cache.delete_workload("web")
            cache.add_event(1, "Workload", "web", "Normal", "Deleted", "x")
            raise RuntimeError("boom")
    assert cache.get_workload("web").generation == 1
    assert cache.list_replicas() == [] and cache.list_replicas(node="n1") == []
    assert cache.last_event_id() == before and cache.list_events(obj="web") == []


def test_concurrent_commits_share_batches(cache, backing):
    def writer(k: int):
        for i in range(50):
            cache.put(ReplicaRecord(id=f"w{k}-{i}", workload=f"w{k}", index=i))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(backing.list_replicas()) == 400
    assert backing.batches < 400          # some commits rode in another's batch


def test_a_thread_that_never_waits_is_written_soon_after_and_flush_waits_for_it(cache, backing):
    def report():
        never_wait()
        cache.put(NodeRecord(name="n1", status="Ready"))

    t = threading.Thread(target=report)
    t.start()
    t.join()
    assert cache.get_node("n1").status == "Ready"
    cache.flush()
    assert backing.get_node("n1").status == "Ready"


def test_a_failed_batch_fails_its_commit_and_memory_goes_back_to_the_backend(cache, backing):
    cache.put(WorkloadRecord(name="before", spec_json="{}"))
    backing.refuse = "disk full: cannot write the state database"
    with pytest.raises(StoreError, match="disk full"):
        with cache.transaction():
            cache.put_workload(WorkloadRecord(name="after", spec_json="{}"))
            cache.put_replica(ReplicaRecord(id="after-0", workload="after", index=0))
    assert [w.name for w in cache.list_workloads()] == ["before"]
    assert cache.list_replicas() == []
    backing.refuse = ""
    cache.put_workload(WorkloadRecord(name="again", spec_json="{}"))
    assert [w.name for w in backing.list_workloads()] == ["again", "before"]


def test_commits_queued_behind_a_failed_one_fail_too(cache, backing):
    backing.refuse = "disk full"

    def report():
        never_wait()
        cache.put(NodeRecord(name="n1"))          # queued, not waited for
    before = cache.reloads
    t = threading.Thread(target=report)
    t.start()
    t.join()
    try:
        cache.flush()     # raises if it began before the failure; after it, nothing is left to wait for
    except StoreError as exc:
        assert "disk full" in str(exc)
    assert cache.get_node("n1") is None and cache.reloads == before + 1


def test_a_flush_after_a_failure_was_read_back_waits_for_nothing_of_it(cache, backing):
    backing.refuse = "disk full"
    with pytest.raises(StoreError):
        cache.put(NodeRecord(name="n1"))
    backing.refuse = ""
    cache.flush()                               # memory is the backend's again: nothing is pending
    assert cache.list_nodes() == [] and backing.list_nodes() == []


def test_reloads_counts_each_read_back(cache, backing):
    before = cache.reloads
    backing.refuse = "disk full"
    with pytest.raises(StoreError):
        cache.put(NodeRecord(name="n1"))
    assert cache.reloads == before + 1
    cache.reload()
    assert cache.reloads == before + 2


def test_a_cache_that_cannot_read_its_backend_back_refuses_everything_until_it_can(cache, backing):
    backing.refuse = "no quorum"
    backing.unreadable = True
    with pytest.raises(StoreError, match="no quorum"):
        cache.put(NodeRecord(name="n1"))
    assert cache.broken
    with pytest.raises(StoreError, match="could not be read back"):
        cache.list_nodes()
    backing.refuse, backing.unreadable = "", False
    cache.reload()
    assert not cache.broken and cache.list_nodes() == []


def test_subscribers_hear_each_commit_and_each_reload(cache, backing):
    heard = []
    cache.subscribe(heard.append)
    with cache.transaction():
        cache.put(NodeRecord(name="n1"))
        cache.put(NodeRecord(name="n1", status="Ready"))
    [(cls, key, old, new)] = heard.pop()
    assert (cls, key, old, new.status) == (NodeRecord, "n1", None, "Ready")
    cache.delete_node("n1")
    [(_, _, old, new)] = heard.pop()
    assert old.name == "n1" and new is None
    cache.reload()
    assert heard.pop() is None


def test_events_keep_the_newest_and_are_found_by_object(backing):
    cache = CachedStore(backing, event_retention=600)
    for i in range(2000):
        cache.add_event(i, "Replica", f"web-{i % 3}", "Normal", "X", f"m{i}")
    events = cache.list_events()
    assert len(events) == 600 and events[-1].message == "m1999"
    assert [e.message for e in cache.list_events(after_id=1999)] == ["m1999"]
    assert all(e.object == "web-1" for e in cache.list_events(obj="web-1"))
    assert cache.list_events(obj="web-1")[0].id >= 2000 - 600
    assert len(cache.list_events(limit=7)) == 7
    cache.close()


def test_close_writes_what_is_queued(backing):
    cache = CachedStore(backing)

    def report():
        never_wait()
        for i in range(20):
            cache.put(NodeRecord(name=f"n{i}"))
    t = threading.Thread(target=report)
    t.start()
    t.join()
    cache.close()
    deadline = time.monotonic() + 10
    while len(backing.list_nodes()) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(backing.list_nodes()) == 20
