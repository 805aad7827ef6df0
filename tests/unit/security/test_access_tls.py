"""The access rules over real gRPC with real TLS on 127.0.0.1 (in-process server, real store)."""
import os
import stat
from concurrent import futures

import grpc
import pytest

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2, security_pb2, security_pb2_grpc
from orchestra.security.ca import ROLE_ADMIN, create_ca, load_cert, new_csr
from orchestra.security.enrolment import PinningError, enrolment_client_credentials, fetch_pinned_ca
from orchestra.security.identity import serial_hex
from orchestra.security.join import JoinError, join_cluster, load_node_credentials, node_credentials
from orchestra.security.plane_security import plane_security
from orchestra.store.sqlite import SqliteStore
from orchestra.transport import ClientTLS

LIST_NODES = "/orchestra.v1.Orchestra/ListNodes"


class Plane:
    """A gRPC server with the security layer in front of stand-in Orchestra and AgentLink handlers."""

    def __init__(self, tmp_path):
        self.store = SqliteStore(":memory:")
        self.sec = plane_security(tmp_path / "data", "127.0.0.1:0", self.store)
        self.sessions = []
        self.hellos = []
        self.server = grpc.server(futures.ThreadPoolExecutor(8), interceptors=self.sec.interceptors)
        self.server.add_generic_rpc_handlers(self.sec.handlers)
        self.server.add_generic_rpc_handlers((
            grpc.method_handlers_generic_handler("orchestra.v1.Orchestra", {
                "ListNodes": grpc.unary_unary_rpc_method_handler(
                    lambda req, ctx: orchestra_pb2.ListNodesResponse(),
                    orchestra_pb2.ListNodesRequest.FromString, orchestra_pb2.ListNodesResponse.SerializeToString)}),
            grpc.method_handlers_generic_handler("orchestra.v1.AgentLink", {
                "Join": grpc.unary_unary_rpc_method_handler(
                    self.sec.join, agent_pb2.JoinRequest.FromString, agent_pb2.JoinResponse.SerializeToString),
                "Session": grpc.stream_stream_rpc_method_handler(
                    self._session, None, agent_pb2.PlaneMessage.SerializeToString)}),
        ))
        self.port = transport.add_listen_port(self.server, "127.0.0.1:0", self.sec.tls)
        self.address = f"127.0.0.1:{self.port}"
        self.server.start()

    def _session(self, requests, context):
        first = agent_pb2.AgentMessage.FromString(next(requests))
        self.sessions.append(first.hello.node_name)
        self.hellos.append(first.hello)
        yield agent_pb2.PlaneMessage(welcome=agent_pb2.Welcome(node_name=first.hello.node_name))

    def channel(self, tls):
        return transport.client_channel(self.address, tls)

    def admin(self):
        return self.channel(self.sec.pki.admin_tls)

    def node_tls(self, name):
        key, csr = new_csr(name)
        return ClientTLS(self.sec.pki.ca.cert_pem, key, self.sec.pki.ca.sign_csr(csr, name))

    def token(self, ttl=3600, labels=None):
        stub = security_pb2_grpc.SecurityStub(self.admin())
        return stub.CreateJoinToken(security_pb2.CreateJoinTokenRequest(ttl_seconds=ttl, labels=labels or {}),
                                    timeout=10)


@pytest.fixture
def plane(tmp_path):
    p = Plane(tmp_path)
    yield p
    p.server.stop(None)
    p.store.close()


def call(channel, method=LIST_NODES, request=orchestra_pb2.ListNodesRequest()):
    return channel.unary_unary(method, request_serializer=type(request).SerializeToString)(request, timeout=10)


def code_of(fn):
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code(), e.value.details()


def test_admin_certificate_may_call_the_api(plane):
    assert call(plane.admin()) == b""


def test_plaintext_client_fails(plane):
    code, _ = code_of(lambda: call(grpc.insecure_channel(plane.address)))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_certificate_from_another_ca_fails_the_handshake(plane):
    other = create_ca()
    issued = other.issue_client("admin", ROLE_ADMIN)
    code, _ = code_of(lambda: call(plane.channel(ClientTLS(plane.sec.pki.ca.cert_pem, issued.key_pem,
                                                           issued.cert_pem))))
    assert code == grpc.StatusCode.UNAVAILABLE


def test_node_certificate_may_not_call_the_admin_api(plane):
    code, details = code_of(lambda: call(plane.channel(plane.node_tls("vm-1"))))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "node 'vm-1' may not call Orchestra/ListNodes: it needs role admin" in details


def test_enrolment_certificate_reaches_only_join(plane):
    key, cert = enrolment_client_credentials(plane.sec.pki.ca.fingerprint)
    ch = plane.channel(ClientTLS(plane.sec.pki.ca.cert_pem, key, cert))
    code, details = code_of(lambda: call(ch))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "role admin issued by this cluster's CA" in details
    code, _ = code_of(lambda: call(ch, "/orchestra.v1.Security/ListJoinTokens", security_pb2.ListJoinTokensRequest()))
    assert code == grpc.StatusCode.UNAUTHENTICATED


def test_revoked_certificate_is_refused_on_the_next_call(plane):
    admin_serial = serial_hex(load_cert(plane.sec.pki.admin_tls.cert_pem).serial_number)
    node = plane.channel(plane.node_tls("vm-1"))
    tls = plane.node_tls("vm-2")
    serial = serial_hex(load_cert(tls.cert_pem).serial_number)
    security_pb2_grpc.SecurityStub(plane.admin()).RevokeNodeCertificate(
        security_pb2.RevokeNodeCertificateRequest(serial=serial, reason="stolen"), timeout=10)
    assert plane.store.is_certificate_revoked(serial) and not plane.store.is_certificate_revoked(admin_serial)
    hello = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-2")).SerializeToString()
    stream = plane.channel(tls).stream_stream("/orchestra.v1.AgentLink/Session")
    code, details = code_of(lambda: list(stream(iter([hello]), timeout=10)))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "was revoked" in details
    assert plane.sessions == []
    del node


def test_session_as_another_node_is_refused_and_recorded(plane):
    stream = plane.channel(plane.node_tls("vm-1")).stream_stream("/orchestra.v1.AgentLink/Session")
    claim_b = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-2")).SerializeToString()
    code, details = code_of(lambda: list(stream(iter([claim_b]), timeout=10)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "node certificate for 'vm-1' may not open a session as node 'vm-2'" in details
    assert plane.sessions == []
    events = plane.store.list_events(obj="vm-1")
    assert [e.reason for e in events] == ["Refused"]
    own = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-1")).SerializeToString()
    replies = list(stream(iter([own]), timeout=10))
    assert replies and plane.sessions == ["vm-1"]


def test_agent_joins_with_a_token_then_uses_mutual_tls(plane, tmp_path):
    resp = plane.token(labels={"zone": "a"})
    state = tmp_path / "agent"
    creds = join_cluster(plane.address, resp.token, "vm-7", state)
    assert creds.labels == {"zone": "a"}
    for f in ("node.key", "node.crt", "ca.crt"):
        assert stat.S_IMODE(os.stat(state / "tls" / f).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state / "tls").st_mode) == 0o700
    assert load_node_credentials(state, "vm-7") == creds
    assert node_credentials(plane.address, "vm-7", state) == creds      # no token needed the second time
    hello = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-7")).SerializeToString()
    list(plane.channel(creds.tls).stream_stream("/orchestra.v1.AgentLink/Session")(iter([hello]), timeout=10))
    assert plane.sessions == ["vm-7"]
    assert [e.reason for e in plane.store.list_events(obj="vm-7")] == ["Joined"]
    with pytest.raises(JoinError, match="certificate of node 'vm-7', not 'vm-8'"):
        load_node_credentials(state, "vm-8")


def test_join_without_token_explains(plane, tmp_path):
    with pytest.raises(JoinError, match="has not joined yet.*--token"):
        node_credentials(plane.address, "vm-1", tmp_path / "agent")


def test_expired_and_revoked_tokens_are_refused(plane, tmp_path):
    expired = plane.token(ttl=1)
    rec = plane.store.get_join_token(expired.info.id)
    from dataclasses import replace
    plane.store.put_join_token(replace(rec, expires_at_ms=rec.created_at_ms))
    with pytest.raises(JoinError, match=r"UNAUTHENTICATED: join refused: join token \w+ expired"):
        join_cluster(plane.address, expired.token, "vm-1", tmp_path / "a")
    revoked = plane.token()
    security_pb2_grpc.SecurityStub(plane.admin()).RevokeJoinToken(
        security_pb2.RevokeJoinTokenRequest(id=revoked.info.id), timeout=10)
    with pytest.raises(JoinError, match="was revoked"):
        join_cluster(plane.address, revoked.token, "vm-1", tmp_path / "b")
    assert not (tmp_path / "a" / "tls" / "node.crt").exists()
    assert plane.store.list_events(obj="vm-1") == []


def test_token_for_another_ca_is_not_sent(plane, tmp_path):
    real = plane.token().token
    forged = "K10" + create_ca().fingerprint + real[real.index("::"):]
    with pytest.raises(JoinError, match="does not present the CA the join token pins"):
        join_cluster(plane.address, forged, "vm-1", tmp_path / "a")
    assert plane.store.list_events() == [e for e in plane.store.list_events() if e.reason != "Joined"]


def test_pinned_ca_is_the_plane_ca(plane):
    assert fetch_pinned_ca(plane.address, plane.sec.pki.ca.fingerprint) == plane.sec.pki.ca.cert_pem
    with pytest.raises(PinningError):
        fetch_pinned_ca(plane.address, "0" * 64)


def test_agent_follows_a_new_ca_when_given_a_token_for_it(plane, tmp_path):
    state = tmp_path / "agent"
    first = join_cluster(plane.address, plane.token().token, "vm-1", state)
    assert node_credentials(plane.address, "vm-1", state, plane.token().token) == first   # same CA: keep
    other = Plane(tmp_path / "other")
    try:
        again = node_credentials(other.address, "vm-1", state, other.token().token)
        assert again.tls.ca_pem == other.sec.pki.ca.cert_pem != first.tls.ca_pem
        assert load_node_credentials(state, "vm-1") == again
    finally:
        other.server.stop(None)
        other.store.close()


def test_plane_writes_a_node_token_once(plane, tmp_path):
    path = plane.sec.node_token_path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    token = path.read_text().strip()
    creds = join_cluster(plane.address, token, "local-1", tmp_path / "a")
    assert creds.node_name == "local-1"
    again = plane_security(tmp_path / "data", "127.0.0.1:0", plane.store)
    assert again.node_token_path.read_text().strip() == token


def test_forged_fingerprint_is_a_refusal_not_unreachable(plane, tmp_path):
    from orchestra.security.join import PlaneUnreachable
    real = plane.token().token
    forged = "K10" + create_ca().fingerprint + real[real.index("::"):]
    with pytest.raises(JoinError) as e:
        join_cluster(plane.address, forged, "vm-1", tmp_path / "a")
    assert not isinstance(e.value, PlaneUnreachable)


def test_unreachable_plane_is_retried_until_stopped(tmp_path):
    import socket
    from orchestra.security.join import node_credentials_retrying
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"       # nothing listens here once closed
    sleeps = []
    token = "K10" + "ab" * 32 + "::abcdef." + "a" * 32
    got = node_credentials_retrying(address, "vm-1", tmp_path, token, should_stop=lambda: len(sleeps) >= 3,
                                    sleep=sleeps.append)
    assert got is None and sleeps == [0.5, 1.0, 2.0]


def test_node_token_follows_a_ca_rotation(tmp_path):
    import shutil
    store = SqliteStore(":memory:")
    first = plane_security(tmp_path / "data", "127.0.0.1:0", store)
    old_token = first.node_token_path.read_text()
    shutil.rmtree(tmp_path / "data" / "pki")                    # the operator rotates the CA
    second = plane_security(tmp_path / "data", "127.0.0.1:0", store)
    assert second.pki.ca.fingerprint != first.pki.ca.fingerprint
    new_token = second.node_token_path.read_text()
    assert new_token != old_token and second.pki.ca.fingerprint in new_token
    store.close()


def test_a_connected_node_name_cannot_be_taken_over(plane, tmp_path):
    from orchestra.store.records import NodeRecord
    plane.store.put_node(NodeRecord(name="vm-live", status="Ready"))
    with pytest.raises(JoinError, match="join refused: node .vm-live. is connected now"):
        join_cluster(plane.address, plane.token().token, "vm-live", tmp_path / "a")
    plane.store.put_node(NodeRecord(name="vm-live", status="NotReady"))    # its machine died: may re-join
    assert join_cluster(plane.address, plane.token().token, "vm-live", tmp_path / "b").node_name == "vm-live"


def test_busy_name_is_retried_for_a_while_then_refused(plane, tmp_path):
    from orchestra.security.join import NodeNameBusy, node_credentials_retrying
    from orchestra.store.records import NodeRecord
    plane.store.put_node(NodeRecord(name="vm-live", status="Ready"))
    sleeps = []
    with pytest.raises(NodeNameBusy, match="is connected now"):
        node_credentials_retrying(plane.address, "vm-live", tmp_path, plane.token().token,
                                  sleep=sleeps.append, busy_for_s=3)
    assert sleeps == [0.5, 1.0, 2.0]
    sleeps.clear()

    def node_went_away(delay):
        sleeps.append(delay)
        plane.store.put_node(NodeRecord(name="vm-live", status="NotReady"))
    plane.store.put_node(NodeRecord(name="vm-live", status="Ready"))
    got = node_credentials_retrying(plane.address, "vm-live", tmp_path / "b", plane.token().token,
                                    sleep=node_went_away, busy_for_s=3)
    assert got.node_name == "vm-live" and sleeps == [0.5]


def test_token_labels_are_fixed_by_the_certificate(plane, tmp_path):
    from orchestra.security.ca import certificate_labels
    creds = join_cluster(plane.address, plane.token(labels={"zone": "a"}).token, "vm-z", tmp_path)
    assert certificate_labels(load_cert(creds.tls.cert_pem)) == {"zone": "a"}
    # The Hello claims zone=b and adds its own label; the plane sees zone=a and the added label.
    hello = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-z", labels={"zone": "b", "disk": "ssd"}))
    stream = plane.channel(creds.tls).stream_stream("/orchestra.v1.AgentLink/Session")
    list(stream(iter([hello.SerializeToString()]), timeout=10))
    assert dict(plane.hellos[0].labels) == {"zone": "a", "disk": "ssd"}
