"""The standard gRPC health service and server reflection on a real `orchestra server`, asked
with grpcio's own clients over the plane's mutual TLS, and refused to callers without the role."""
from __future__ import annotations

import grpc
import pytest
from google.protobuf.descriptor_pool import DescriptorPool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from orchestra import transport
from orchestra.security.enrolment import enrolment_client_credentials
from orchestra.security.tokens import parse_token

pytestmark = pytest.mark.integration
SERVING = health_pb2.HealthCheckResponse.SERVING


def check(channel, service: str = "") -> int:
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=10).status


def refused(fn) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code(), e.value.details()


def test_health_answers_admin_and_node_certificates(plane):
    admin = transport.client_channel(plane.address, plane.admin_tls())
    for service in ("", "orchestra.v1.Orchestra", "orchestra.v1.AgentLink", "orchestra.v1.Security"):
        assert check(admin, service) == SERVING, service
    assert refused(lambda: check(admin, "no.such.Service"))[0] == grpc.StatusCode.NOT_FOUND
    # Watch, the streaming half of the health API, gives the current status first.
    first = next(health_pb2_grpc.HealthStub(admin).Watch(health_pb2.HealthCheckRequest(service=""), timeout=10))
    assert first.status == SERVING
    assert check(plane.channel("vm-1"), "orchestra.v1.Orchestra") == SERVING
    admin.close()


def test_reflection_describes_the_api_to_an_admin(plane):
    admin = transport.client_channel(plane.address, plane.admin_tls())
    db = ProtoReflectionDescriptorDatabase(admin)
    services = set(db.get_services())
    assert {"orchestra.v1.Orchestra", "orchestra.v1.AgentLink", "orchestra.v1.Security",
            "grpc.health.v1.Health"} <= services
    orchestra = DescriptorPool(db).FindServiceByName("orchestra.v1.Orchestra")
    methods = {m.name: m for m in orchestra.methods}
    assert {"Apply", "ListNodes", "ListEvents", "WatchEvents", "Logs"} <= set(methods)
    assert methods["ListNodes"].output_type.full_name == "orchestra.v1.ListNodesResponse"
    admin.close()


def test_reflection_is_refused_to_a_node_and_both_to_strangers(plane):
    node_db = ProtoReflectionDescriptorDatabase(plane.channel("vm-1"))
    code, details = refused(lambda: list(node_db.get_services()))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "needs role admin" in details

    # Anyone can derive the enrolment certificate from a join token: it gets through TLS, no further.
    ca_pem = plane.admin_tls().ca_pem
    key, cert = enrolment_client_credentials(parse_token(plane.node_token()).ca_fingerprint)
    stranger = transport.client_channel(plane.address, transport.ClientTLS(ca_pem, key, cert))
    code, details = refused(lambda: check(stranger))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "role admin or node" in details
    code, _ = refused(lambda: list(ProtoReflectionDescriptorDatabase(stranger).get_services()))
    assert code == grpc.StatusCode.UNAUTHENTICATED

    plaintext = grpc.insecure_channel(plane.address)
    assert refused(lambda: check(plaintext))[0] == grpc.StatusCode.UNAVAILABLE   # fails the TLS handshake
    for ch in (stranger, plaintext):
        ch.close()
