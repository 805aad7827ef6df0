"""The follower gate on the plane's real asyncio gRPC server, assembled as `orchestra server` does
(build_server on 127.0.0.1 with mutual TLS, the access rules before the gate, a real Plane over
SQLite): a plane that does not lead refuses every call but health, reflection and ListPlanes
with UNAVAILABLE, its reason, and the trailing metadata clients move by; a leader serves them all.
The leadership is a stand-in (the gate only asks it `term` and `refusal()`)."""
from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from plane_fixtures import hello, workload_json

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2, orchestra_pb2_grpc
from orchestra.endpoints import LEADER_KEY, NOT_LEADER_KEY, redirect_of
from orchestra.security.ca import new_csr
from orchestra.security.plane_security import plane_security
from orchestra.server.follower_gate import FollowerGate
from orchestra.server.grpc_server import build_server
from orchestra.server.plane import Plane
from orchestra.store import SqliteStore
from orchestra.transport import ClientTLS

LEADER = "10.0.0.1:7070"
REFUSED = f"plane p2 (10.0.0.2:7070) does not lead: plane p1 leads, at {LEADER}"


class Leadership:
    """What the gate asks: `term` (None: this plane does not lead) and `refusal()`."""

    def __init__(self):
        self.term = None
        self.answer = (REFUSED, LEADER)

    def refusal(self):
        return self.answer


class Service:
    """The plane's user service, plus ListPlanes (leadership's own in `orchestra server`)."""

    def __init__(self, inner):
        self._inner = inner

    def list_planes(self):
        return orchestra_pb2.ListPlanesResponse(store="etcd", answered_by="p2")

    def __getattr__(self, name):
        return getattr(self._inner, name)


class Served:
    def __init__(self, plane):
        self.service = Service(plane.service)
        self.hub = plane.hub


async def _ping(request: bytes, context) -> bytes:      # an async unary handler (the gate's coroutine case)
    return b"pong"

PING = grpc.method_handlers_generic_handler("test.Ping", {"Ping": grpc.unary_unary_rpc_method_handler(_ping)})


@pytest.fixture
def gate():
    return Leadership()


@pytest.fixture
def plane(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    p = Plane(store)
    yield p
    p.stop()
    store.close()


class Channels:
    def __init__(self, sec, port):
        self.sec, self.address = sec, f"127.0.0.1:{port}"
        self.admin = transport.client_channel(self.address, sec.pki.admin_tls)
        key, csr = new_csr("vm-1")
        self.node = transport.client_channel(self.address, ClientTLS(sec.pki.ca.cert_pem, key,
                                                                     sec.pki.ca.sign_csr(csr, "vm-1")))


@pytest.fixture
def served(plane, gate, tmp_path):
    sec = plane_security(tmp_path / "data", "127.0.0.1:0", plane.store)
    server, port = build_server(Served(plane), "127.0.0.1:0", interceptors=[*sec.interceptors, FollowerGate(gate)],
                                extra_handlers=[*sec.handlers, PING], tls=sec.tls)
    server.start()
    channels = Channels(sec, port)
    yield channels
    channels.admin.close()
    channels.node.close()
    server.stop(None).wait(10)


@pytest.fixture
def channel(served):
    return served.admin


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as e:
        call()
    return e.value


def assert_not_leader(error: grpc.RpcError, leader: str = LEADER, message: str = REFUSED) -> None:
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == message
    assert redirect_of(error) == (True, leader)
    metadata = dict(error.trailing_metadata())
    assert metadata[NOT_LEADER_KEY] == "1"
    assert (LEADER_KEY in metadata) == bool(leader)


def hello_bytes(name: str = "vm-1") -> bytes:
    return agent_pb2.AgentMessage(hello=hello(name)).SerializeToString()


def session(channel, *messages: bytes) -> list[agent_pb2.PlaneMessage]:
    call = channel.stream_stream("/orchestra.v1.AgentLink/Session",
                                 response_deserializer=agent_pb2.PlaneMessage.FromString)
    out = []
    for msg in call(iter(messages), timeout=10):
        out.append(msg)
        if msg.HasField("welcome"):
            break
    return out


def test_a_follower_refuses_a_unary_call_naming_the_leader(channel):
    stub = orchestra_pb2_grpc.OrchestraStub(channel)
    assert_not_leader(refused(lambda: stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)))


def test_a_refused_call_is_not_carried_out(channel, plane):
    stub = orchestra_pb2_grpc.OrchestraStub(channel)
    apply = orchestra_pb2.ApplyRequest(documents_json=[workload_json("web")])
    assert_not_leader(refused(lambda: stub.Apply(apply, timeout=10)))
    assert plane.store.get_workload("web") is None


def test_without_a_known_leader_only_not_leader_is_sent(channel, gate):
    gate.answer = ("no plane leads right now: the store has no quorum", "")
    stub = orchestra_pb2_grpc.OrchestraStub(channel)
    error = refused(lambda: stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10))
    assert_not_leader(error, leader="", message="no plane leads right now: the store has no quorum")


def test_a_follower_refuses_streaming_calls(channel):
    stub = orchestra_pb2_grpc.OrchestraStub(channel)
    assert_not_leader(refused(lambda: next(stub.WatchEvents(orchestra_pb2.WatchEventsRequest(), timeout=10))))
    exec_request = orchestra_pb2.ExecRequest(command=orchestra_pb2.ExecCommand(replica="web-0", command=["true"]))
    assert_not_leader(refused(lambda: list(stub.Exec(iter([exec_request]), timeout=10))))


def test_a_follower_refuses_an_agent_session(served, plane):
    assert_not_leader(refused(lambda: session(served.node, hello_bytes())))
    assert plane.store.get_node("vm-1") is None


def test_a_follower_refuses_an_async_unary_handler(channel):
    assert_not_leader(refused(lambda: channel.unary_unary("/test.Ping/Ping")(b"", timeout=10)))


def test_health_reflection_and_list_planes_are_served_by_a_follower(channel):
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    answers = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10)
    names = {s.name for s in next(answers).list_services_response.service}
    assert "orchestra.v1.Orchestra" in names
    planes = orchestra_pb2_grpc.OrchestraStub(channel).ListPlanes(orchestra_pb2.ListPlanesRequest(), timeout=10)
    assert planes.answered_by == "p2"


def test_the_gate_asks_at_each_call_whether_this_plane_leads(served, channel, gate):
    stub = orchestra_pb2_grpc.OrchestraStub(channel)
    gate.term = object()                                 # it won a term
    assert stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10) == orchestra_pb2.ListNodesResponse()
    assert channel.unary_unary("/test.Ping/Ping")(b"", timeout=10) == b"pong"
    assert session(served.node, hello_bytes())[0].welcome.node_name == "vm-1"
    gate.term = None                                     # and lost it
    assert_not_leader(refused(lambda: stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)))
