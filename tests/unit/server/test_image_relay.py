"""Image loads relayed through nodes' sessions, without gRPC: the user's call
(UserService.load_image) on one side, the agents' messages fed to the hub on the other."""
from __future__ import annotations

import hashlib
import threading

import pytest
from plane_fixtures import hello

from orchestra.api import agent_pb2, orchestra_pb2
from orchestra.server import image_relay
from orchestra.server.errors import InvalidArgument, NotFound

ARCHIVE = bytes(range(256)) * 10_000          # 2.5 MB: more than two windows
CHUNK = 256 * 1024


def requests(data: bytes = ARCHIVE, nodes=(), size=None, sha=None):
    yield orchestra_pb2.ImageLoadRequest(start=orchestra_pb2.ImageLoadStart(
        nodes=list(nodes), size=len(data) if size is None else size,
        sha256=sha or hashlib.sha256(data).hexdigest(), name="app.tar"))
    for i in range(0, len(data), CHUNK):
        yield orchestra_pb2.ImageLoadRequest(chunk=data[i:i + CHUNK])


class FakeNode:
    """Answers its session's image messages as an agent does: credit for every chunk, then done
    (or `error`); collects what it was sent, never more than a window ahead of its credit."""

    def __init__(self, plane, session, error: str = "", grant: bool = True):
        self.plane, self.session, self.error, self.grant = plane, session, error, grant
        self.received = bytearray()
        self.outstanding_max = 0
        self.cancelled = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        load_id, outstanding = "", 0
        while True:
            msg = self.session.outbox.get()
            kind = getattr(msg, "WhichOneof", lambda _: None)("msg")
            if kind is None:
                return
            if kind == "image_transfer":
                load_id = msg.image_transfer.load_id
            elif kind == "image_cancel":
                self.cancelled.append(msg.image_cancel.reason)
                return
            elif kind == "image_chunk":
                c = msg.image_chunk
                self.received += c.data
                outstanding += len(c.data)
                self.outstanding_max = max(self.outstanding_max, outstanding)
                if not self.grant:
                    continue
                self.deliver(agent_pb2.ImageLoadStatus(load_id=load_id, credit=len(c.data)))
                outstanding -= len(c.data)
                if c.last:
                    if self.error:
                        self.deliver(agent_pb2.ImageLoadStatus(load_id=load_id, error=self.error))
                    else:
                        self.deliver(agent_pb2.ImageLoadStatus(load_id=load_id, done=True, images=["local/app:1"]))

    def deliver(self, status):
        self.plane.hub.on_message(self.session, agent_pb2.AgentMessage(image_load=status))


def join(plane, name):
    s = plane.hub.open_session(hello(name))
    while not s.outbox.empty():      # welcome, desired set, endpoints
        s.outbox.get()
    return s


def test_the_archive_reaches_every_connected_node_within_its_window_and_a_node_down_is_skipped(plane):
    a, b = FakeNode(plane, join(plane, "vm-1")), FakeNode(plane, join(plane, "vm-2"))
    plane.hub.open_session(hello("vm-3"))
    plane.hub.close_session(plane.hub.sessions.get("vm-3"))

    res = plane.service.load_image(requests(), lambda: True)

    by_node = {n.node: n for n in res.nodes}
    assert list(by_node) == ["vm-1", "vm-2", "vm-3"]
    assert list(by_node["vm-1"].images) == ["local/app:1"] and not by_node["vm-1"].error
    assert by_node["vm-3"].error.startswith("node vm-3 is not connected")
    for node in (a, b):
        assert bytes(node.received) == ARCHIVE
        assert node.outstanding_max <= image_relay.WINDOW


def test_a_failing_node_is_reported_while_the_others_load(plane):
    FakeNode(plane, join(plane, "vm-1"))
    FakeNode(plane, join(plane, "vm-2"), error="the engine of node vm-2 did not load the image: disk full")
    res = plane.service.load_image(requests(), lambda: True)
    assert [(n.node, n.error) for n in res.nodes] == [
        ("vm-1", ""), ("vm-2", "the engine of node vm-2 did not load the image: disk full")]


def test_a_checksum_mismatch_loads_nothing_anywhere(plane):
    node = FakeNode(plane, join(plane, "vm-1"))
    with pytest.raises(InvalidArgument, match="sha256 is .* not 0+ as announced"):
        plane.service.load_image(requests(sha="0" * 64), lambda: True)
    node.thread.join(5)
    assert node.cancelled and len(node.received) < len(ARCHIVE)   # the last chunk was held back


def test_bad_requests(plane):
    join(plane, "vm-1")
    with pytest.raises(NotFound, match="no node named nope"):
        plane.service.load_image(requests(nodes=["vm-1", "nope"]), lambda: True)
    with pytest.raises(InvalidArgument, match="empty"):
        plane.service.load_image(requests(b""), lambda: True)
    with pytest.raises(InvalidArgument, match="first ImageLoadRequest must be `start`"):
        plane.service.load_image(iter([orchestra_pb2.ImageLoadRequest(chunk=b"x")]), lambda: True)


def test_an_archive_longer_than_announced_is_refused(plane):
    FakeNode(plane, join(plane, "vm-1"))
    with pytest.raises(InvalidArgument, match="longer than the 10 bytes announced"):
        plane.service.load_image(requests(size=10), lambda: True)


def test_a_session_that_ends_mid_load_fails_that_node_only(plane):
    FakeNode(plane, join(plane, "vm-1"))
    stuck = join(plane, "vm-2")
    FakeNode(plane, stuck, grant=False)
    timer = threading.Timer(0.5, lambda: plane.hub.close_session(stuck))
    timer.start()
    res = plane.service.load_image(requests(), lambda: True)
    assert [(n.node, n.error) for n in res.nodes] == [
        ("vm-1", ""), ("vm-2", "the session of node vm-2 ended during the load")]


def test_inventories_are_stored_and_listed(plane):
    s = plane.hub.open_session(hello("vm-1"))
    assert not plane.store.get_node("vm-1").images_reported     # an agent that does not report: not checked
    plane.hub.on_message(s, agent_pb2.AgentMessage(images=agent_pb2.ImageInventory(
        images=["local/app:1", "docker.io/library/busybox:1"])))
    rec = plane.store.get_node("vm-1")
    assert rec.images_reported and rec.images == ["busybox:1", "local/app:1"]
    [listed] = plane.service.list_images().nodes
    assert listed.node == "vm-1" and listed.reported and list(listed.images) == ["busybox:1", "local/app:1"]
    h = hello("vm-2")
    h.images.images.append("local/app:1")
    plane.hub.open_session(h)
    assert plane.store.get_node("vm-2").images == ["local/app:1"]
