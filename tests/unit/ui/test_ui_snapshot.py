"""The document the page is drawn from: the API's field names, manifests parsed, explanations cut
to their summary line."""
from __future__ import annotations

import json

from orchestra.api import orchestra_pb2, types_pb2
from orchestra.ui.snapshot import cluster_snapshot, same_state, workload_view


def test_snapshot_shapes():
    node = types_pb2.Node(name="vm-1", status="Ready", capacity=types_pb2.Resources(cpu_millis=2000))
    w = orchestra_pb2.WorkloadInfo(name="web", desired=2, workload_json=json.dumps({"spec": {"tenant": "a"}}))
    r = types_pb2.Replica(id="web-0", workload="web", index=0, node="vm-1", phase="Running",
                          placement=types_pb2.PlacementExplanation(
                              node="vm-1", summary="placed on vm-1", nodes_total=3,
                              scores=[types_pb2.NodeScore(node="vm-1", total=1.5)]))
    snap = cluster_snapshot([node], [w], [r], 123, "127.0.0.1:7070")
    assert snap["plane"] == "127.0.0.1:7070" and snap["listed_at_ms"] == 123
    assert snap["nodes"][0]["capacity"] == {"cpu_millis": 2000, "memory_bytes": 0}    # int64 as numbers
    assert snap["workloads"][0]["manifest"] == {"spec": {"tenant": "a"}} and "workload_json" not in snap["workloads"][0]
    assert snap["replicas"][0]["placement"] == {"summary": "placed on vm-1", "node": "vm-1"}
    later = cluster_snapshot([node], [w], [r], 456, "127.0.0.1:7070")
    assert same_state(snap, later) and not same_state(None, later)


def test_an_unreadable_manifest_is_empty_not_an_error():
    assert workload_view(orchestra_pb2.WorkloadInfo(name="x", workload_json="{not json"))["manifest"] == {}
