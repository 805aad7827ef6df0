"""The usage book: the last samples of nodes and of the replicas bound to them, memory only."""
from __future__ import annotations

from orchestra.api import types_pb2
from orchestra.server.usage_book import UsageBook
from orchestra.store.records import ReplicaRecord


def replica(node: str = "n1", incarnation: int = 1) -> ReplicaRecord:
    return ReplicaRecord(id="web-0", workload="web", index=0, node=node, incarnation=incarnation)


def test_a_replica_shows_its_sample_only_while_bound_where_and_as_it_was_reported():
    book = UsageBook()
    book.record("n1", types_pb2.NodeUsage(cpu_percent=5, sampled_at_ms=1),
                [(replica(), types_pb2.ContainerUsage(memory_bytes=7, sampled_at_ms=1))])
    assert book.of_node("n1").cpu_percent == 5
    assert book.of_replicas([replica()])[0].memory_bytes == 7
    assert not book.of_replicas([replica(incarnation=2)])[0].sampled_at_ms     # lost and bound again
    assert not book.of_replicas([replica(node="n2")])[0].sampled_at_ms
    assert not book.of_replicas([replica(node="")])[0].sampled_at_ms


def test_a_report_replaces_its_nodes_replicas_and_keeps_the_node_sample_when_it_has_none():
    book = UsageBook()
    book.record("n1", types_pb2.NodeUsage(cpu_percent=5, sampled_at_ms=1),
                [(replica(), types_pb2.ContainerUsage(memory_bytes=7, sampled_at_ms=1))])
    book.record("n1", None, [])
    assert book.of_node("n1").cpu_percent == 5
    assert not book.of_replicas([replica()])[0].sampled_at_ms
    book.forget("n1")
    assert not book.of_node("n1").sampled_at_ms
