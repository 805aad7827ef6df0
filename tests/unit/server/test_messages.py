"""Conversions kept from one listing to the next (messages.ReplicaMessages)."""
from __future__ import annotations

from orchestra.api import types_pb2
from orchestra.server.messages import ReplicaMessages
from orchestra.store.records import ReplicaRecord


def test_a_replicas_message_is_kept_while_its_record_and_usage_are_the_same():
    memo = ReplicaMessages()
    r = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Running",
                      placement={"summary": "placed on n1"})
    usage = types_pb2.ContainerUsage(memory_bytes=7, sampled_at_ms=1)
    first = memo.of(r, usage)
    assert memo.of(r, usage) is first
    assert (first.phase, first.usage.memory_bytes, first.placement.summary) == ("Running", 7, "placed on n1")
    changed = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Failed")
    assert memo.of(changed, usage).phase == "Failed"
    assert memo.of(changed, types_pb2.ContainerUsage(memory_bytes=9)).usage.memory_bytes == 9
    memo.keep_only(set())
    assert len(memo) == 0
