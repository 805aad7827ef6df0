"""The agents' streams as coroutines (AgentStreams.Session) on a real asyncio gRPC server on
127.0.0.1 (PlaneServer, no TLS: the access rules are tests/unit/security/test_access_async.py's),
in front of a real Plane over SQLite; and InOrder, which runs each session's messages in order."""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from plane_fixtures import hello, workload_json

from orchestra.api import agent_pb2
from orchestra.server.agent_streams import AgentStreams, InOrder
from orchestra.server.errors import Unavailable
from orchestra.server.grpc_server import PlaneServer
from orchestra.server.plane import Plane
from orchestra.store import SqliteStore
from tests.support.waiting import wait_for

SESSION = "/orchestra.v1.AgentLink/Session"


@pytest.fixture
def plane(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    p = Plane(store)
    yield p
    p.stop()
    store.close()


class Link:
    """A real server whose only method is AgentStreams.Session; `hub_of` may be swapped."""

    def __init__(self, plane):
        self.hub_of = lambda: plane.hub
        self.streams = AgentStreams(lambda: self.hub_of(), threads=4)

        async def make():
            server = grpc.aio.server()
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("orchestra.v1.AgentLink", {
                "Session": grpc.stream_stream_rpc_method_handler(
                    self.streams.Session, None, agent_pb2.PlaneMessage.SerializeToString)}),))
            return server, server.add_insecure_port("127.0.0.1:0")
        self.server = PlaneServer(make, self.streams)
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.server.port}")

    def close(self):
        self.channel.close()
        self.server.stop(None).wait(10)


class Agent:
    """One session: send raw bytes, read the plane's messages (each call has a 30 s deadline)."""

    def __init__(self, link: Link):
        self._out: queue.Queue = queue.Queue()
        call = link.channel.stream_stream(SESSION, response_deserializer=agent_pb2.PlaneMessage.FromString)
        self.replies = call(iter(self._out.get, None), timeout=30)

    def send(self, *raw: bytes) -> "Agent":
        for r in raw:
            self._out.put(r)
        return self

    def close(self) -> None:
        self._out.put(None)

    def next(self) -> agent_pb2.PlaneMessage:
        return next(self.replies)

    def error(self) -> grpc.RpcError:
        with pytest.raises(grpc.RpcError) as e:
            for _ in self.replies:
                pass
        return e.value


@pytest.fixture
def link(plane):
    lk = Link(plane)
    yield lk
    lk.close()


def message(**kw) -> bytes:
    return agent_pb2.AgentMessage(**kw).SerializeToString()


HELLO = message(hello=hello("vm-1"))
HEARTBEAT = message(heartbeat=agent_pb2.Heartbeat())


def test_garbage_as_first_message_is_answered_precisely(link):
    e = Agent(link).send(b"\xff\xff\xff").error()
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details().startswith("malformed AgentMessage (3 bytes): ")


@pytest.mark.parametrize("first, said", [(HEARTBEAT, "got heartbeat"), (b"", "got an empty message")])
def test_the_first_message_must_be_hello(link, plane, first, said):
    e = Agent(link).send(first, HELLO).error()
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details() == f"the first message of a session must be hello, {said}"
    assert plane.store.get_node("vm-1") is None


def test_hello_is_welcomed_and_the_desired_set_follows(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().welcome.node_name == "vm-1"
    assert plane.store.get_node("vm-1") is not None
    plane.service.apply([workload_json("web")])
    reply = agent.next()
    while not reply.desired.replicas:       # the node's (empty) set may come first
        reply = agent.next()
    assert [r.replica_id for r in reply.desired.replicas] == ["web-0"]
    agent.close()


def test_garbage_later_in_the_session_ends_it_precisely(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    agent.send(HEARTBEAT, b"\x0a\x05ab")
    e = agent.error()
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.details().startswith("malformed AgentMessage (4 bytes): ")
    wait_for("the session closed on the hub", lambda: plane.hub.sessions.get("vm-1") is None, timeout=30, every=0.05)


def test_a_second_hello_ends_the_session(link):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    e = agent.send(HELLO).error()
    assert (e.code(), e.details()) == (grpc.StatusCode.INVALID_ARGUMENT,
                                       "hello is allowed only as the first message of a session")


def test_a_refused_hello_gets_a_refusal_and_the_stream_ends(link, plane):
    agent = Agent(link).send(message(hello=hello("Not A Name")))
    reply = agent.next()
    assert reply.refusal.reason.startswith("invalid node name 'Not A Name'")
    with pytest.raises(StopIteration):
        agent.next()


def test_a_plane_that_does_not_lead_refuses_the_session(link, plane):
    def not_leading():
        raise Unavailable("plane p2 does not lead: plane p1 leads, at 10.0.0.1:7070")
    link.hub_of = not_leading
    e = Agent(link).send(HELLO).error()
    assert (e.code(), e.details()) == (grpc.StatusCode.UNAVAILABLE,
                                       "plane p2 does not lead: plane p1 leads, at 10.0.0.1:7070")
    assert plane.store.get_node("vm-1") is None


def test_the_plane_ending_a_session_ends_the_stream_with_its_status(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    plane.hub.sessions.get("vm-1").end(grpc.StatusCode.UNAVAILABLE, "plane p1 no longer leads")
    e = agent.error()
    assert (e.code(), e.details()) == (grpc.StatusCode.UNAVAILABLE, "plane p1 no longer leads")


def test_a_session_ended_without_a_status_ends_the_stream_normally(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    plane.hub.sessions.get("vm-1").end(None, "the plane is shutting down")
    list(agent.replies)                     # what was queued before the end (desired set, endpoints), then OK
    assert agent.replies.code() == grpc.StatusCode.OK


def test_the_agent_closing_its_stream_closes_the_session(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    session = plane.hub.sessions.get("vm-1")
    agent.close()
    list(agent.replies)                     # the plane ends its side too: OK, not the call's deadline
    assert agent.replies.code() == grpc.StatusCode.OK
    assert session.ended.is_set()
    wait_for("the session closed on the hub", lambda: plane.hub.sessions.get("vm-1") is None, timeout=30, every=0.05)


def test_a_message_counts_for_liveness_when_it_arrives_not_when_a_hub_thread_handles_it(link, plane):
    """With the hub's threads behind (here: vm-1's status report held), a heartbeat that arrived
    already keeps the node alive: a backlog must not make healthy nodes NotReady."""
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    before = plane.liveness.last_seen("vm-1")
    held, release = threading.Event(), threading.Event()
    on_message = plane.hub.on_message

    def slow(session, msg):
        held.set()
        release.wait(60)
        on_message(session, msg)
    plane.hub.on_message = slow
    try:
        time.sleep(0.01)
        agent.send(message(status=agent_pb2.StatusReport(revision=1)))
        wait_for("the report to be held", held.is_set, timeout=30, every=0.01)
        agent.send(HEARTBEAT)        # behind the held report: it waits for a hub thread too
        wait_for("the heartbeat to count", lambda: plane.liveness.last_seen("vm-1") > before, timeout=10, every=0.01)
    finally:
        release.set()
    agent.close()


def test_a_heartbeat_that_changes_nothing_stored_is_handled_on_the_event_loop(link, plane):
    agent = Agent(link).send(HELLO)
    assert agent.next().HasField("welcome")
    handled = []
    on_message = plane.hub.on_message

    def recording(session, msg):
        handled.append(msg.WhichOneof("msg"))
        on_message(session, msg)
    plane.hub.on_message = recording
    wait_for("vm-1 Ready", lambda: plane.store.get_node("vm-1").status == "Ready", timeout=10, every=0.01)
    agent.send(message(heartbeat=agent_pb2.Heartbeat(seq=1, applied_revision=5)))
    session = plane.hub.sessions.get("vm-1")
    wait_for("the heartbeat's revision", lambda: session.applied_revision == 5, timeout=10, every=0.01)
    assert handled == []            # no hub thread took it
    agent.send(message(heartbeat=agent_pb2.Heartbeat(seq=2, runtime_status="unavailable: engine gone")))
    wait_for("the runtime status stored", lambda: plane.store.get_node("vm-1").runtime_status.startswith(
        "unavailable"), timeout=10, every=0.01)
    assert handled == ["heartbeat"]     # a change to store: a hub thread's
    agent.close()


def test_in_order_runs_calls_one_at_a_time_in_order_past_failures():
    pool = ThreadPoolExecutor(4)
    ran, overlap, busy, done = [], [], threading.Lock(), threading.Event()

    def call(i):
        if not busy.acquire(blocking=False):
            overlap.append(i)
            return
        try:
            time.sleep(0.001)
            ran.append(i)
            if i == 3:
                raise RuntimeError("a failing message")
        finally:
            busy.release()
    in_order = InOrder(pool)
    for i in range(50):
        in_order.submit(call, i)
    in_order.submit(done.set)
    assert done.wait(30)
    pool.shutdown()
    assert ran == list(range(50)) and overlap == []
