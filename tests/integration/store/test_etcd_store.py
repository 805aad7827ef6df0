"""What the etcd store adds to the contract (tests/integration/store/test_contract.py): real
etcd members, killed, stopped and brought back; several store instances on one prefix, as
several planes would be."""
from __future__ import annotations

import threading
import time

import pytest

from orchestra.store import NodeRecord, ReplicaRecord, WorkloadRecord
from orchestra.store.etcd import EtcdStore, StoreConflictError
from orchestra.store.etcd_client import StoreRequestError, StoreUnavailableError

# "Fails within a few seconds": the store's budget is 2 s here; the bound below only catches a hang.
BUDGET_S = 2.0
HANG_S = 15.0


def store_of(cluster, prefix, **kw) -> EtcdStore:
    return EtcdStore(cluster.endpoints, cluster.tls, prefix=prefix, **kw)


def test_prefixes_keep_stores_apart(etcd_cluster, etcd_prefix):
    a = store_of(etcd_cluster, etcd_prefix + "a/")
    b = store_of(etcd_cluster, etcd_prefix + "b/")
    a.put_node(NodeRecord(name="n1"))
    a.add_event(1, "Node", "n1", "Normal", "Registered", "m")
    assert b.list_nodes() == [] and b.get_node("n1") is None
    assert b.last_event_id() == 0 and b.list_events() == []
    assert [n.name for n in a.list_nodes()] == ["n1"]
    a.close(), b.close()


def test_event_ids_grow_across_store_instances_and_restarts(etcd_cluster, etcd_prefix):
    a = store_of(etcd_cluster, etcd_prefix)
    first = a.add_event(1, "Node", "n1", "Normal", "R", "from a")
    a.close()
    b = store_of(etcd_cluster, etcd_prefix)
    c = store_of(etcd_cluster, etcd_prefix)
    second = b.add_event(2, "Node", "n1", "Normal", "R", "from b")
    third = c.add_event(3, "Node", "n2", "Normal", "R", "from c")
    assert first < second < third and c.last_event_id() == third
    assert [e.message for e in b.list_events()] == ["from a", "from b", "from c"]
    assert [e.message for e in b.list_events(obj="n1")] == ["from a", "from b"]
    b.close(), c.close()


def test_two_stores_on_one_prefix_lose_no_update(etcd_cluster, etcd_prefix):
    """Read-modify-write from two store instances (two planes) at once: every increment that
    committed is there; the ones that lost a race were refused whole and tried again."""
    stores = [store_of(etcd_cluster, etcd_prefix) for _ in range(2)]
    stores[0].put_replica(ReplicaRecord(id="c-0", workload="c", index=0, restarts=0))
    conflicts = []
    per_thread = 20

    def bump(store):
        done = 0
        while done < per_thread:
            try:
                with store.transaction():
                    r = store.get_replica("c-0")
                    r.restarts += 1
                    store.put_replica(r)
                    store.add_event(done, "Replica", "c-0", "Normal", "Bumped", str(r.restarts))
                done += 1
            except StoreConflictError as exc:
                conflicts.append(str(exc))

    threads = [threading.Thread(target=bump, args=(s,)) for s in stores for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = per_thread * len(threads)
    assert stores[1].get_replica("c-0").restarts == total
    # One event per committed increment, none from a refused attempt, ids in commit order.
    events = stores[0].list_events(obj="c-0")
    assert [e.message for e in events] == [str(i) for i in range(1, total + 1)]
    assert all("c-0" in c and "nothing was written" in c for c in conflicts)
    for s in stores:
        s.close()


def test_a_conflict_writes_nothing_and_names_what_changed(etcd_cluster, etcd_prefix):
    mine, theirs = store_of(etcd_cluster, etcd_prefix), store_of(etcd_cluster, etcd_prefix)
    mine.put_node(NodeRecord(name="n1"))
    mine.put_node(NodeRecord(name="n2"))
    # A phantom: the other plane adds a replica after this transaction listed them.
    with pytest.raises(StoreConflictError, match=r"replicas/\*"):
        with mine.transaction():
            assert mine.list_replicas(workload="web") == []
            theirs.put_replica(ReplicaRecord(id="web-0", workload="web", index=0))
            mine.put_replica(ReplicaRecord(id="web-0", workload="web", index=0, node="n1"))
            mine.put_workload(WorkloadRecord(name="web", spec_json="{}"))
    assert mine.get_workload("web") is None and mine.get_replica("web-0").node == ""
    # A deletion of a listed record: no key is left to compare, the kind's marker catches it.
    with pytest.raises(StoreConflictError, match=r"nodes/\*"):
        with mine.transaction():
            assert [n.name for n in mine.list_nodes()] == ["n1", "n2"]
            theirs.delete_node("n2")
            mine.put_replica(ReplicaRecord(id="web-0", workload="web", index=0, node="n2"))
    assert mine.get_replica("web-0").node == ""
    # A record read, then changed by the other plane.
    with pytest.raises(StoreConflictError, match="nodes/n1"):
        with mine.transaction():
            n = mine.get_node("n1")
            theirs.put_node(NodeRecord(name="n1", labels={"by": "theirs"}))
            n.labels["by"] = "mine"
            mine.put_node(n)
    assert mine.get_node("n1").labels == {"by": "theirs"}
    mine.close(), theirs.close()


def test_a_transaction_reads_its_own_writes(etcd_store):
    with etcd_store.transaction():
        etcd_store.put_replica(ReplicaRecord(id="a-0", workload="a", index=0, node="n1"))
        etcd_store.put_replica(ReplicaRecord(id="a-1", workload="a", index=1))
        assert etcd_store.get_replica("a-0").node == "n1"
        assert [r.id for r in etcd_store.list_replicas(node="n1")] == ["a-0"]
        assert etcd_store.delete_replica("a-1") and etcd_store.get_replica("a-1") is None
        assert [r.id for r in etcd_store.list_replicas()] == ["a-0"]
        eid = etcd_store.add_event(1, "Replica", "a-0", "Normal", "Bound", "m")
        assert etcd_store.last_event_id() == eid and [e.id for e in etcd_store.list_events()] == [eid]
        # Another thread sees none of it before the commit.
        seen = []
        t = threading.Thread(target=lambda: seen.append(etcd_store.get_replica("a-0")))
        t.start()
        t.join()
        assert seen == [None]
    assert [r.id for r in etcd_store.list_replicas()] == ["a-0"]


def test_filters_match_exact_values_only(etcd_store):
    # The substring pre-filter must not let near misses through.
    etcd_store.put_replica(ReplicaRecord(id="a-0", workload="a", index=0, node="n1"))
    etcd_store.put_replica(ReplicaRecord(id="a-1", workload="a", index=1, node="n10"))
    etcd_store.put_replica(ReplicaRecord(id="b-0", workload='a"x', index=0, node="n1", reason='"node":"n1"'))
    assert [r.id for r in etcd_store.list_replicas(node="n1")] == ["a-0", "b-0"]
    assert [r.id for r in etcd_store.list_replicas(workload="a")] == ["a-0", "a-1"]
    assert [r.id for r in etcd_store.list_replicas(workload='a"x')] == ["b-0"]


def test_large_lists_are_read_in_pages_at_one_revision(etcd_store):
    from orchestra.store import etcd as etcd_module
    records = [ReplicaRecord(id=f"w-{i}", workload="w", index=i) for i in range(etcd_module.PAGE_SIZE * 2 + 7)]
    etcd_store.put_replicas(records)
    assert len(etcd_store.list_replicas(workload="w")) == len(records)


def test_limits_are_checked_before_anything_is_sent(etcd_cluster, etcd_prefix):
    small = store_of(etcd_cluster, etcd_prefix, max_txn_ops=100, max_request_bytes=20_000)
    with pytest.raises(StoreRequestError, match="--max-txn-ops 100"):
        small.put_replicas([ReplicaRecord(id=f"w-{i}", workload="w", index=i) for i in range(150)])
    with pytest.raises(StoreRequestError, match="--max-request-bytes 20000"):
        small.put_workload(WorkloadRecord(name="big", spec_json="x" * 30_000))
    assert small.list_replicas() == [] and small.get_workload("big") is None
    small.close()


def test_etcd_refusing_a_transaction_is_explained(etcd_cluster, etcd_prefix):
    # The members allow 10,000 operations per Txn; a store told it may send more learns otherwise.
    eager = store_of(etcd_cluster, etcd_prefix, max_txn_ops=20_000)
    with pytest.raises(StoreRequestError, match="max-txn-ops"):
        eager.put_replicas([ReplicaRecord(id=f"w-{i}", workload="w", index=i) for i in range(10_001)])
    assert eager.list_replicas() == []
    eager.close()


def test_an_unreachable_store_does_not_open(tmp_path):
    from tests.support.etcd import free_ports, make_certificates
    from orchestra.store import StoreOpenError
    certs = make_certificates(tmp_path)
    port = free_ports(1)[0]
    started = time.monotonic()
    with pytest.raises(StoreOpenError, match=f"127.0.0.1:{port}.*no etcd member is reachable"):
        EtcdStore([f"127.0.0.1:{port}"], certs["orchestra"], timeout_s=BUDGET_S)
    assert time.monotonic() - started < HANG_S


def test_a_client_certificate_from_another_ca_is_refused(etcd_cluster, tmp_path):
    from tests.support.etcd import make_certificates
    from orchestra.store import StoreOpenError
    stranger = make_certificates(tmp_path)["orchestra"]
    with pytest.raises(StoreOpenError, match="TLS|handshake|certificate"):
        EtcdStore(etcd_cluster.endpoints, stranger, timeout_s=BUDGET_S)


# -- faults: a 3-member cluster of each test's own ------------------------------------------------
def test_quorum_loss_fails_clearly_writes_nothing_half_and_recovers(etcd_cluster3, etcd_prefix):
    cluster = etcd_cluster3
    store = store_of(cluster, etcd_prefix, timeout_s=BUDGET_S)
    store.put_workload(WorkloadRecord(name="before", spec_json="{}"))
    _, b, c = cluster.members
    b.kill()
    c.kill()
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as err:
        with store.transaction():
            store.put_workload(WorkloadRecord(name="during", spec_json="{}"))
            for i in range(50):
                store.put_replica(ReplicaRecord(id=f"during-{i}", workload="during", index=i))
    assert time.monotonic() - started < HANG_S
    message = str(err.value)
    assert "no quorum" in message and "applies whole or not at all" in message
    assert all(ep in message for ep in cluster.endpoints)
    for read in (lambda: store.get_workload("before"), store.list_replicas):
        with pytest.raises(StoreUnavailableError, match="no quorum"):
            read()
    b.start()
    c.start()
    cluster.wait_healthy()
    store.put_workload(WorkloadRecord(name="after", spec_json="{}"))
    names = {w.name for w in store.list_workloads()}
    assert {"before", "after"} <= names
    during = [r for r in store.list_replicas(workload="during")]
    assert len(during) in (0, 50) and (len(during) == 50) == ("during" in names)
    store.close()


def test_one_member_killed_or_stopped_the_store_carries_on(etcd_cluster3, etcd_prefix):
    cluster = etcd_cluster3
    store = store_of(cluster, etcd_prefix, timeout_s=5.0)
    store.put_node(NodeRecord(name="n0"))
    current = cluster.members[cluster.endpoints.index(store.client.endpoints[store.client._current])]
    current.kill()
    store.put_node(NodeRecord(name="n1"))
    assert [n.name for n in store.list_nodes()] == ["n0", "n1"]
    current.start()
    cluster.wait_healthy()
    # A stopped member keeps its connections open and answers nothing: calls move on.
    current = cluster.members[cluster.endpoints.index(store.client.endpoints[store.client._current])]
    current.pause()
    try:
        with store.transaction():
            n = store.get_node("n1")
            n.labels["seen"] = "yes"
            store.put_node(n)
        assert store.get_node("n1").labels == {"seen": "yes"}
        assert store.add_event(1, "Node", "n1", "Normal", "R", "m") == store.last_event_id()
    finally:
        current.resume()
    store.close()
