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


def test_garbage_in_the_exec_stream_is_invalid_argument(plane):
    channel = transport.client_channel(plane.address, plane.admin_tls())
    call = channel.stream_stream("/orchestra.v1.Orchestra/Exec", request_serializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as info:
        list(call(iter([GARBAGE]), timeout=30))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value
    assert "malformed orchestra.v1.ExecRequest" in info.value.details()
    # A node's certificate may not exec: it is the admin's verb.
    with pytest.raises(grpc.RpcError) as info:
        list(plane.channel("vm-1").stream_stream("/orchestra.v1.Orchestra/Exec", request_serializer=lambda b: b)(
            iter([orchestra_pb2.ExecRequest().SerializeToString()]), timeout=30))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED and "needs role admin" in info.value.details()

