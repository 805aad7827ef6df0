"""How services are shown: `get services` rows and `describe service`."""
from __future__ import annotations

import json

from orchestra.api import orchestra_pb2 as pb
from orchestra.api import types_pb2 as t
from orchestra.cli.describe import describe_service
from orchestra.cli.views import service_row

DOC = json.dumps({"metadata": {"name": "web", "labels": {}}, "spec": {"selector": {"app": "web"}}})


def info(**kw) -> pb.ServiceInfo:
    return pb.ServiceInfo(name="web", service_json=DOC, virtual_address="10.96.1.1", created_at_ms=1000,
                          ports=[t.ServicePort(port=80, target_port=8080, protocol="tcp", node_port=30080)], **kw)


def test_row_counts_ready_endpoints():
    s = info(workloads=["web"], endpoints=[t.Endpoint(replica_id="web-0", ready=True), t.Endpoint(replica_id="web-1")])
    assert service_row(s, True, now_ms=2000) == ["web", "10.96.1.1", "80->8080/tcp (node 30080)", "1/2", "1s",
                                                 "app=web", "web"]


def test_describe_lists_endpoints_with_node_address_and_readiness():
    s = info(workloads=["web"], endpoints=[
        t.Endpoint(replica_id="web-0", node="vm-2", address="10.213.1.2", ready=True),
        t.Endpoint(replica_id="web-1", node="vm-1", address="10.213.1.1", reason="Running, not ready")])
    text = describe_service(pb.ServiceDescription(service=s), now_ms=2000)
    assert "1 ready of 2" in text
    assert any(line.split()[:4] == ["web-0", "vm-2", "10.213.1.2:8080", "yes"] for line in text.splitlines())
    assert "Running, not ready" in text


def test_describe_says_when_the_selector_matches_nothing():
    text = describe_service(pb.ServiceDescription(service=info()), now_ms=2000)
    assert "<none>: the selector app=web matches no workload" in text
