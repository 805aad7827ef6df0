"""Conversions kept from one listing to the next (messages.ReplicaMessages, messages.NodeMessages)."""
from __future__ import annotations

from orchestra.api import orchestra_pb2, types_pb2
from orchestra.server.messages import NodeMessages, ReplicaMessages, allocated, node_pb
from orchestra.spec.model import Resources
from orchestra.store.records import NodeRecord, ReplicaRecord


def test_a_replicas_message_is_kept_while_its_record_is_the_same_with_its_usage_copied_in():
    memo = ReplicaMessages()
    r = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Running",
                      placement={"summary": "placed on n1"})
    listing = orchestra_pb2.ListReplicasResponse()
    memo.add_to(listing.replicas, r, None)
    memo.add_to(listing.replicas, r, types_pb2.ContainerUsage(memory_bytes=7, sampled_at_ms=1))
    first, with_usage = listing.replicas
    assert not first.HasField("usage")
    assert (with_usage.phase, with_usage.usage.memory_bytes, with_usage.placement.summary) == \
        ("Running", 7, "placed on n1")
    again = orchestra_pb2.ListReplicasResponse()
    memo.add_to(again.replicas, r, None)
    assert not again.replicas[0].HasField("usage")   # the kept message is not changed by a sample
    changed = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Failed")
    memo.add_to(again.replicas, changed, None)
    assert again.replicas[1].phase == "Failed" and len(memo) == 1
    memo.keep_only(set())
    assert len(memo) == 0


def test_a_nodes_message_is_kept_while_its_record_and_allocation_are_the_same():
    memo = NodeMessages()
    n = NodeRecord(name="n1", capacity=Resources(2000, 4 << 30), status="Ready", last_heartbeat_ms=100,
                   facts={"hostname": "n1"})
    bound = [ReplicaRecord(id=f"web-{i}", workload="web", index=i, node="n1", requests=Resources(100, 1 << 20))
             for i in range(3)]
    listing = orchestra_pb2.ListNodesResponse()
    memo.add_to(listing.nodes, n, allocated(bound), types_pb2.NodeUsage(cpu_percent=12.5, sampled_at_ms=5), 900)
    memo.add_to(listing.nodes, n, allocated(bound[:1]), None, 50)
    now, fewer = listing.nodes
    assert now == node_pb(n, bound, types_pb2.NodeUsage(cpu_percent=12.5, sampled_at_ms=5), 900)
    assert (now.replica_count, now.allocated.cpu_millis, now.last_heartbeat_ms, now.usage.cpu_percent) == \
        (3, 300, 900, 12.5)
    assert (fewer.replica_count, fewer.allocated.memory_bytes, fewer.last_heartbeat_ms, fewer.HasField("usage")) == \
        (1, 1 << 20, 100, False)      # heard of before the record says: the record's time
    assert fewer.facts.hostname == "n1" and len(memo) == 1
