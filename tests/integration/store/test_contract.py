"""One contract for every store backend: SQLite (file and memory) and etcd (a real member,
tests/support/etcd.py; this is why the suite lives in the integration tier), and for the
plane's in-memory cache in front of each (orchestra.store.cache)."""
from __future__ import annotations

import threading

import pytest

from orchestra.spec.model import Resources, Taint
from orchestra.store import JoinTokenRecord, NodeRecord, ReplicaRecord, SqliteStore, WorkloadRecord
from orchestra.store.cache import CachedStore
from orchestra.store.etcd import EtcdStore
from orchestra.store.records import EventRecord


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "etcd", "cached-sqlite", "cached-etcd"])
def store(request, tmp_path):
    backend = request.param.removeprefix("cached-")
    if backend == "sqlite-file" or backend == "sqlite":
        s = SqliteStore(str(tmp_path / "state.db"), event_retention=50)
    elif backend == "sqlite-memory":
        s = SqliteStore(":memory:", event_retention=50)
    else:
        cluster = request.getfixturevalue("etcd_cluster")
        s = EtcdStore(cluster.endpoints, cluster.tls, prefix=request.getfixturevalue("etcd_prefix"),
                      event_retention=50)
    if request.param.startswith("cached-"):
        cache = CachedStore(s, event_retention=50)
        yield cache
        cache.close()
    else:
        yield s
    s.close()


def test_node_roundtrip(store):
    n = NodeRecord(name="vm-1", labels={"zone": "a"}, facts={"cpus": 2, "hostname": "vm-1"},
                   capacity=Resources(2000, 4 << 30), status="Ready", schedulable=False,
                   taints=[Taint("gpu", "yes", "NoSchedule")], last_heartbeat_ms=5,
                   runtime_status="available", desired_revision=7, desired_hash="h", agent_instance="i",
                   registered_at_ms=3)
    store.put_node(n)
    assert store.get_node("vm-1") == n
    assert store.get_node("nope") is None
    store.put_node(NodeRecord(name="vm-0"))
    assert [x.name for x in store.list_nodes()] == ["vm-0", "vm-1"]
    assert store.delete_node("vm-0") and not store.delete_node("vm-0")


def test_workload_delete_removes_its_replicas(store):
    store.put_workload(WorkloadRecord(name="web", spec_json="{}", generation=2, created_at_ms=1, updated_at_ms=2))
    store.put_workload(WorkloadRecord(name="db", spec_json="{}"))
    for i in range(3):
        store.put_replica(ReplicaRecord(id=f"web-{i}", workload="web", index=i))
    store.put_replica(ReplicaRecord(id="db-0", workload="db", index=0))
    assert store.get_workload("web").generation == 2
    assert [w.name for w in store.list_workloads()] == ["db", "web"]
    assert store.delete_workload("web")
    assert store.get_workload("web") is None
    assert [r.id for r in store.list_replicas()] == ["db-0"]
    assert not store.delete_workload("web")


def test_replica_roundtrip_and_filters(store):
    r = ReplicaRecord(id="web-10", workload="web", index=10, node="vm-1", phase="Running", reason="ok",
                      exit_code=3, restarts=2, container_id="c", revision=4, created_at_ms=1, updated_at_ms=2,
                      next_restart_ms=9, requests=Resources(250, 64 << 20), incarnation=3,
                      ready=True, ready_since_ms=2, probes=[{"probe": "readiness", "result": "Success"}],
                      placement={"node": "vm-1", "scores": [{"node": "vm-1", "total": 1.5}]}, stop_revision=7)
    store.put_replica(r)
    store.put_replica(ReplicaRecord(id="web-2", workload="web", index=2, node="vm-2"))
    store.put_replica(ReplicaRecord(id="api-0", workload="api", index=0, node="vm-1"))
    assert store.get_replica("web-10") == r
    # Sorted by workload then numeric index (web-2 before web-10).
    assert [x.id for x in store.list_replicas()] == ["api-0", "web-2", "web-10"]
    assert [x.id for x in store.list_replicas(workload="web")] == ["web-2", "web-10"]
    assert [x.id for x in store.list_replicas(node="vm-1")] == ["api-0", "web-10"]
    assert [x.id for x in store.list_replicas(workload="web", node="vm-1")] == ["web-10"]
    assert store.delete_replica("web-2") and store.get_replica("web-2") is None


def test_transaction_is_all_or_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.put_workload(WorkloadRecord(name="web", spec_json="{}"))
            with store.transaction():  # nested joins the outer one
                store.put_replica(ReplicaRecord(id="web-0", workload="web", index=0))
            raise RuntimeError("boom")
    assert store.get_workload("web") is None and store.list_replicas() == []
    with store.transaction():
        store.put_workload(WorkloadRecord(name="web", spec_json="{}"))
        store.put_replica(ReplicaRecord(id="web-0", workload="web", index=0))
    assert store.get_workload("web") and store.get_replica("web-0")


def test_transaction_isolates_other_threads(store):
    store.put_replica(ReplicaRecord(id="c-0", workload="c", index=0, restarts=0))

    def bump():
        for _ in range(50):
            with store.transaction():
                r = store.get_replica("c-0")
                r.restarts += 1
                store.put_replica(r)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get_replica("c-0").restarts == 200


def test_events_grow_filter_and_keep_newest(store):
    ids = [store.add_event(i, "Replica", f"web-{i % 2}", "Normal", "Scheduled", f"m{i}") for i in range(60)]
    assert ids == sorted(ids) and len(set(ids)) == 60
    assert store.last_event_id() == ids[-1]
    events = store.list_events()
    assert len(events) == 50 and events[-1].message == "m59" and events[0].message == "m10"
    assert all(e.object == "web-1" for e in store.list_events(obj="web-1"))
    after = store.list_events(after_id=ids[-3])
    assert [e.message for e in after] == ["m58", "m59"]
    assert len(store.list_events(limit=5)) == 5


def test_join_tokens_and_revoked_certificates(store):
    t = JoinTokenRecord(id="abc", secret_hash="sha256:x", expires_at_ms=100, labels={"zone": "a"}, created_at_ms=1)
    store.put_join_token(t)
    assert store.get_join_token("abc") == t
    assert store.revoke_join_token("abc") and store.get_join_token("abc").revoked
    assert not store.revoke_join_token("nope")
    assert [x.id for x in store.list_join_tokens()] == ["abc"]
    assert not store.is_certificate_revoked("01")
    store.revoke_certificate("01", 5, "node retired")
    store.revoke_certificate("01", 6)  # idempotent
    assert store.is_certificate_revoked("01") and store.list_revoked_certificates() == ["01"]


def test_generic_records_filter_on_indexed_fields_only(store):
    store.put(ReplicaRecord(id="a-0", workload="a", index=0, node="n1"))
    store.put(ReplicaRecord(id="a-1", workload="a", index=1))
    store.put(NodeRecord(name="n1"))
    assert [r.id for r in store.list(ReplicaRecord, node="")] == ["a-1"]
    assert [r.id for r in store.list(ReplicaRecord, workload="a", node="n1")] == ["a-0"]
    assert [n.name for n in store.list(NodeRecord)] == ["n1"]   # kinds do not mix
    with pytest.raises(TypeError, match="only workload and node are indexed"):
        store.list(ReplicaRecord, phase="Running")
    assert store.delete(ReplicaRecord, "a-1") and not store.delete(ReplicaRecord, "a-1")


def test_records_come_back_as_fresh_copies(store):
    store.put(NodeRecord(name="n1", labels={"zone": "a"}))
    first = store.get(NodeRecord, "n1")
    first.labels["zone"] = "b"
    assert store.get(NodeRecord, "n1").labels == {"zone": "a"}


def test_a_batch_is_written_whole(store):
    store.put(ReplicaRecord(id="old-0", workload="old", index=0))
    store.add_event(1, "Replica", "old-0", "Normal", "Created", "first")
    last = store.last_event_id()
    events = [EventRecord(last + 1, 2, "Replica", "web-0", "Normal", "Scheduled", "a"),
              EventRecord(last + 2, 3, "Replica", "web-1", "Normal", "Scheduled", "b")]
    if isinstance(store, CachedStore):       # a cache gives event ids itself; its backend takes batches
        store.backing.apply_batch([ReplicaRecord(id="web-0", workload="web", index=0)], [(ReplicaRecord, "old-0")],
                                  events)
        store.reload()
    else:
        store.apply_batch([ReplicaRecord(id="web-0", workload="web", index=0), NodeRecord(name="n1")],
                          [(ReplicaRecord, "old-0"), (ReplicaRecord, "never-was")], events)
    assert [r.id for r in store.list_replicas()] == ["web-0"]
    assert store.last_event_id() == last + 2
    assert [e.message for e in store.list_events(after_id=last)] == ["a", "b"]
    assert [e.message for e in store.list_events(obj="web-1")] == ["b"]
    assert store.add_event(4, "Node", "n1", "Normal", "X", "next") == last + 3
