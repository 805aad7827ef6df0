"""The access rules on the plane's asyncio gRPC server (AsyncAccessControl), over real mutual TLS on
127.0.0.1: build_server as `orchestra server` assembles it, a real Plane over SQLite, the agents'
Session as the async AgentStreams handler, health and reflection as gRPC's own async servicers."""
from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2, orchestra_pb2_grpc, types_pb2
from orchestra.security.access import AccessControl
from orchestra.security.ca import new_csr
from orchestra.security.enrolment import enrolment_client_credentials
from orchestra.security.plane_security import plane_security
from orchestra.server.grpc_server import build_server
from orchestra.server.plane import Plane
from orchestra.store import SqliteStore
from orchestra.transport import ClientTLS

NEEDS_CLUSTER_CERT = "issued by this cluster's CA"


class Served:
    def __init__(self, tmp_path, on_refused=None):
        self.store = SqliteStore(str(tmp_path / "state.db"))
        self.plane = Plane(self.store)
        self.sec = plane_security(tmp_path / "data", "127.0.0.1:0", self.plane.store)
        interceptors = self.sec.interceptors
        if on_refused is not None:
            interceptors = [AccessControl(interceptors[0].identifier, on_refused)]
        self.server, port = build_server(self.plane, "127.0.0.1:0", join=self.sec.join, interceptors=interceptors,
                                         extra_handlers=self.sec.handlers, tls=self.sec.tls)
        self.server.start()
        self.address = f"127.0.0.1:{port}"
        self.channels = []

    def channel(self, tls: ClientTLS):
        ch = transport.client_channel(self.address, tls)
        self.channels.append(ch)
        return ch

    def admin(self):
        return self.channel(self.sec.pki.admin_tls)

    def node(self, name: str = "vm-1", **labels):
        key, csr = new_csr(name)
        return self.channel(ClientTLS(self.sec.pki.ca.cert_pem, key, self.sec.pki.ca.sign_csr(csr, name, labels=labels)))

    def enrolment(self):
        key, cert = enrolment_client_credentials(self.sec.pki.ca.fingerprint)
        return self.channel(ClientTLS(self.sec.pki.ca.cert_pem, key, cert))

    def close(self):
        for ch in self.channels:
            ch.close()
        self.server.stop(None).wait(10)
        self.plane.stop()
        self.store.close()


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.close()


def refused(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as e:
        call()
    return e.value.code(), e.value.details()


def hello(name: str, **labels) -> bytes:
    return agent_pb2.AgentMessage(hello=agent_pb2.Hello(
        node_name=name, labels=labels, capacity=types_pb2.Resources(cpu_millis=1000, memory_bytes=1 << 30)
    )).SerializeToString()


def session(channel, *messages: bytes) -> agent_pb2.PlaneMessage:
    """The plane's first answer to a session opened with `messages`."""
    call = channel.stream_stream("/orchestra.v1.AgentLink/Session", response_deserializer=agent_pb2.PlaneMessage.FromString)
    replies = call(iter(messages), timeout=10)
    first = next(replies)
    replies.cancel()
    return first


def health(channel):
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status


def reflection(channel):
    answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    return {s.name for s in next(answers).list_services_response.service}


def test_health_an_async_handler_needs_a_cluster_certificate(served):
    assert health(served.admin()) == health(served.node()) == health_pb2.HealthCheckResponse.SERVING
    code, details = refused(lambda: health(served.enrolment()))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert details.startswith("Health/Check needs a client certificate with role admin or node " + NEEDS_CLUSTER_CERT)


def test_reflection_an_async_stream_is_the_admins_only(served):
    assert "orchestra.v1.Orchestra" in reflection(served.admin())
    code, details = refused(lambda: reflection(served.node()))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert details == "node 'vm-1' may not call ServerReflection/ServerReflectionInfo: it needs role admin"


def test_threaded_user_api_keeps_the_same_rules_on_the_asyncio_server(served):
    stub = orchestra_pb2_grpc.OrchestraStub(served.node())
    code, details = refused(lambda: stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10))
    assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED,
                               "node 'vm-1' may not call Orchestra/ListNodes: it needs role admin")
    code, _ = refused(lambda: next(stub.WatchEvents(orchestra_pb2.WatchEventsRequest(), timeout=10)))
    assert code == grpc.StatusCode.PERMISSION_DENIED          # a threaded stream, run as a coroutine
    assert orchestra_pb2_grpc.OrchestraStub(served.admin()).ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)


def test_a_session_needs_a_node_certificate(served):
    code, details = refused(lambda: session(served.enrolment(), hello("vm-1")))
    assert code == grpc.StatusCode.UNAUTHENTICATED
    assert details.startswith("AgentLink/Session needs a client certificate with role node " + NEEDS_CLUSTER_CERT)
    code, details = refused(lambda: session(served.admin(), hello("vm-1")))
    assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED,
                               "admin 'admin' may not call AgentLink/Session: it needs role node")
    assert served.plane.store.get_node("vm-1") is None


def test_a_session_as_another_node_is_refused_and_recorded(served):
    code, details = refused(lambda: session(served.node("vm-1"), hello("vm-2")))
    assert (code, details) == (grpc.StatusCode.PERMISSION_DENIED,
                               "node certificate for 'vm-1' may not open a session as node 'vm-2'")
    assert served.plane.store.get_node("vm-2") is None
    [event] = served.plane.store.list_events(obj="vm-1")
    assert (event.reason, event.message) == ("Refused", details)


def test_a_nodes_own_session_is_welcomed_with_the_labels_its_certificate_fixes(served):
    reply = session(served.node("vm-1", zone="a"), hello("vm-1", zone="b", disk="ssd"))
    assert reply.welcome.node_name == "vm-1"
    assert served.plane.store.get_node("vm-1").labels == {"zone": "a", "disk": "ssd"}


def test_garbage_from_a_node_reaches_the_session_handler_which_names_it(served):
    code, details = refused(lambda: session(served.node("vm-1"), b"\xff\xff"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith("malformed AgentMessage (2 bytes)")


def test_a_failure_to_record_a_refusal_is_still_a_refusal(tmp_path):
    def broken(ident, method, message):
        raise OSError("disk full")
    s = Served(tmp_path, on_refused=broken)
    try:
        code, _ = refused(lambda: session(s.node("vm-1"), hello("vm-2")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        code, _ = refused(lambda: reflection(s.node("vm-1")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert s.plane.store.get_node("vm-2") is None
    finally:
        s.close()
