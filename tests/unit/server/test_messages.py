"""Conversions kept from one listing to the next (messages.ReplicaMessages)."""
from __future__ import annotations

from orchestra.api import types_pb2
from orchestra.server.messages import ReplicaMessages
from orchestra.store.records import ReplicaRecord


def test_a_replicas_message_is_kept_while_its_record_is_the_same_with_its_usage_copied_in():
    memo = ReplicaMessages()
    r = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Running",
                      placement={"summary": "placed on n1"})
    first = memo.of(r, None)
    assert memo.of(r, None) is first and not first.HasField("usage")
    with_usage = memo.of(r, types_pb2.ContainerUsage(memory_bytes=7, sampled_at_ms=1))
    assert (with_usage.phase, with_usage.usage.memory_bytes, with_usage.placement.summary) == \
        ("Running", 7, "placed on n1")
    assert not first.HasField("usage")               # the kept message is not changed by a sample
    changed = ReplicaRecord(id="web-0", workload="web", index=0, node="n1", phase="Failed")
    assert memo.of(changed, None).phase == "Failed"
    memo.keep_only(set())
    assert len(memo) == 0
