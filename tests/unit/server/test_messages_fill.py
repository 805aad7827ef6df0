"""messages.fill_from_dict builds what json_format.ParseDict(..., ignore_unknown_fields=True) builds
from the dicts the store keeps (message_to_dict), only faster; anything unusual goes to json_format."""
import pytest
from google.protobuf import json_format

from orchestra.api import agent_pb2, types_pb2
from orchestra.server.messages import fill_from_dict, message_to_dict

PLACEMENT = types_pb2.PlacementExplanation(
    node="n1", summary="placed on n1", nodes_total=1000, nodes_feasible=998, decided_at_ms=1796287517938,
    preempted=["a-0"], unschedulable=False,
    rejections=[types_pb2.PlacementRejection(filter="ready", reason="node not ready", count=2, nodes=["n7", "n8"],
                                             detail="x")],
    scores=[types_pb2.NodeScore(node="n1", total=0.75, parts={"spread": 0.5, "fit": 0.25})])


@pytest.mark.parametrize("cls,d", [
    (types_pb2.PlacementExplanation, message_to_dict(PLACEMENT)),
    (types_pb2.NodeFacts, message_to_dict(types_pb2.NodeFacts(hostname="h", cpus=16, memory_bytes=64 << 30,
                                                              kernel="6.1", architecture="x86_64"))),
    (types_pb2.NodeUsage, message_to_dict(types_pb2.NodeUsage(cpu_percent=12.5, memory_used_bytes=1 << 40,
                                                              memory_total_bytes=(1 << 41) + 1,
                                                              sampled_at_ms=1796287517938))),
    (types_pb2.ContainerUsage, {"cpu_percent": 0.5, "memory_bytes": "4194304", "unknown_field": 3}),
    (types_pb2.NodeUsage, {"cpu_percent": "NaN"}),
    (types_pb2.NodeUsage, {}),
    (types_pb2.ProbeResult, {"probe": "readiness", "result": "Failure", "consecutive_failures": 3}),
    (agent_pb2.ContainerSpec, {"replica_id": "r", "env": {"A": "1"}, "secret_env": {"S": "c2VjcmV0"},
                               "resources": {"cpu_millis": "10"}, "command": ["sleep", "1d"]}),
])
def test_same_message_as_json_format(cls, d):
    want = cls()
    json_format.ParseDict(d, want, ignore_unknown_fields=True)
    got = cls()
    fill_from_dict(d, got)
    assert got == want


def test_a_bad_value_fails_as_json_format_fails():
    with pytest.raises(json_format.ParseError):
        fill_from_dict({"cpus": "many"}, types_pb2.NodeFacts())


@pytest.mark.parametrize("cls,d", [
    (types_pb2.PlacementExplanation, message_to_dict(PLACEMENT)),
    (types_pb2.NodeUsage, {"cpu_percent": 1.5, "memory_used_bytes": "7", "sampled_at_ms": "9"}),
])
def test_plain_records_do_not_go_through_json_format(cls, d, monkeypatch):
    want = cls()
    json_format.ParseDict(d, want, ignore_unknown_fields=True)

    def refuse(*_a, **_k):
        raise AssertionError("json_format used")
    monkeypatch.setattr(json_format, "ParseDict", refuse)
    got = cls()
    fill_from_dict(d, got)
    assert got == want
