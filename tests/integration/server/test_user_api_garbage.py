"""Garbage on the user-facing Orchestra service: every method answers INVALID_ARGUMENT with a
reason, and the plane keeps serving everyone else."""
from __future__ import annotations

import grpc
import pytest
from plane_fixtures_integration import workload_json

from orchestra import transport
from orchestra.api import orchestra_pb2

UNARY = ["Apply", "Delete", "ListWorkloads", "ListReplicas", "ListNodes", "DescribeWorkload",
         "DescribeNode", "SetNodeSchedulable"]
STREAMS = ["WatchEvents", "Logs"]
GARBAGE = b"\xff\xff\xff\xff not a protobuf"


@pytest.mark.parametrize("method", UNARY + STREAMS)
def test_garbage_request_is_invalid_argument_and_plane_keeps_serving(plane, method):
    channel = transport.client_channel(plane.address, plane.admin_tls())    # a user's credentials
    path = f"/orchestra.v1.Orchestra/{method}"
    with pytest.raises(grpc.RpcError) as info:
        if method in STREAMS:
            list(channel.unary_stream(path, request_serializer=lambda b: b)(GARBAGE, timeout=30))
        else:
            channel.unary_unary(path, request_serializer=lambda b: b)(GARBAGE, timeout=30)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value
    assert "malformed" in info.value.details()

    c = plane.client()
    c.Apply(orchestra_pb2.ApplyRequest(documents_json=[workload_json("web")]), timeout=30)
    assert [w.name for w in c.ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=30).workloads] == ["web"]
