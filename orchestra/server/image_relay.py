"""Image loads: a user's Orchestra.LoadImage call (an image archive, `docker save` format, in
chunks) relayed to each target node over the node's own agent stream (AgentLink.Session: the
plane never dials a node).

One ImageChannel per target node. The plane reads the user's next chunk only when every node
still loading has credit for the one it holds (agent.proto, ImageTransfer): each node may be
sent WINDOW bytes beyond what it granted back (what its engine took), so the plane holds at most
one chunk of the archive and each node at most a window, whatever the archive's size; the
user's upload then goes at the pace of the slowest node (gRPC's HTTP/2 flow control holds the
CLI back). A node that fails (its engine's error, its session ended, no credit for STALL_S) is
given up and reported while the others go on.

Checksummed end to end: the CLI announces the size and sha256; the plane counts and hashes what
it receives and passes the last chunk on only when both match (else every node is cancelled and
the call fails: nothing is loaded anywhere), and each agent checks the same before its engine
gets the last chunk.
"""
from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Callable, Iterator

from orchestra.api import agent_pb2, orchestra_pb2
from orchestra.server.errors import InvalidArgument, NotFound, ResourceExhausted, Unavailable
from orchestra.server.sessions import AgentSession, SessionRegistry

WINDOW = 1 << 20            # bytes a node may be sent beyond its credit
MAX_CHUNK = 1 << 20         # a larger chunk could never fit a window
MAX_LOADS_PER_NODE = 4
STALL_S = 120.0             # a node that takes nothing for this long is given up
POLL_S = 0.25               # how soon a call notices that its user went away or the plane stops


class ImageChannel:
    def __init__(self, relay: "ImageRelay", session: AgentSession, load_id: str):
        self.relay = relay
        self.session = session
        self.node = session.node
        self.load_id = load_id
        self._cond = threading.Condition()
        self._allowed = WINDOW
        self._result: orchestra_pb2.NodeImageLoad | None = None

    # -- the agent's side (the session's reader thread) -----------------------------------------
    def deliver(self, status: agent_pb2.ImageLoadStatus) -> bool:
        """Take one ImageLoadStatus; True once this node's load has ended."""
        with self._cond:
            if self._result is None:
                self._allowed += max(0, status.credit)
                if status.done:
                    self._result = orchestra_pb2.NodeImageLoad(node=self.node, images=list(status.images))
                elif status.error:
                    self._result = orchestra_pb2.NodeImageLoad(node=self.node, error=status.error)
            self._cond.notify_all()
            return self._result is not None

    def fail(self, reason: str) -> None:
        with self._cond:
            if self._result is None:
                self._result = orchestra_pb2.NodeImageLoad(node=self.node, error=reason)
            self._cond.notify_all()

    # -- the call's side ------------------------------------------------------------------------
    @property
    def result(self) -> orchestra_pb2.NodeImageLoad | None:
        with self._cond:
            return self._result

    def send(self, data: bytes, last: bool, is_active: Callable[[], bool]) -> bool:
        """Pass one chunk on within the node's credit, waiting for it; False once this node's load
        ended (failed) or the call is over."""
        stalled_since = time.monotonic()
        with self._cond:
            while self._result is None and self._allowed < len(data):
                self._cond.wait(POLL_S)
                if not is_active():
                    return False
                if time.monotonic() - stalled_since > STALL_S:
                    self._result = orchestra_pb2.NodeImageLoad(
                        node=self.node, error=f"node {self.node} took no image data for {STALL_S:.0f}s; given up")
            if self._result is not None:
                return False
            self._allowed -= len(data)
        self.session.send(agent_pb2.PlaneMessage(image_chunk=agent_pb2.ImageChunk(
            load_id=self.load_id, data=data, last=last)))
        return True

    def wait(self, timeout: float) -> orchestra_pb2.NodeImageLoad | None:
        with self._cond:
            self._cond.wait_for(lambda: self._result is not None, timeout)
            return self._result

    def close(self, reason: str) -> None:
        """The call is over: a load still running on the node is cancelled there."""
        with self._cond:
            running = self._result is None
            if running:
                self._result = orchestra_pb2.NodeImageLoad(node=self.node, error=reason)
            self._cond.notify_all()
        self.relay.forget(self)
        if running:
            self.session.send(agent_pb2.PlaneMessage(image_cancel=agent_pb2.ImageCancel(
                load_id=self.load_id, reason=reason)))


class ImageRelay:
    """The open image channels, by load id."""

    def __init__(self):
        self._channels: dict[str, ImageChannel] = {}
        self._lock = threading.Lock()

    def open(self, session: AgentSession, size: int, sha256: str) -> ImageChannel:
        with self._lock:
            running = sum(1 for c in self._channels.values() if c.session is session)
            if running >= MAX_LOADS_PER_NODE:
                raise ResourceExhausted(f"node {session.node} already loads {running} images (at most "
                                        f"{MAX_LOADS_PER_NODE}); try again when one has ended")
            channel = ImageChannel(self, session, uuid.uuid4().hex)
            self._channels[channel.load_id] = channel
        session.send(agent_pb2.PlaneMessage(image_transfer=agent_pb2.ImageTransfer(
            load_id=channel.load_id, size=size, sha256=sha256, window=WINDOW)))
        return channel

    def deliver(self, session: AgentSession, status: agent_pb2.ImageLoadStatus) -> None:
        with self._lock:
            channel = self._channels.get(status.load_id)
        if channel is None or channel.session is not session:
            return   # ended or cancelled already, or another node answering: drop
        if channel.deliver(status):
            self.forget(channel)

    def session_closed(self, session: AgentSession) -> None:
        with self._lock:
            lost = [c for c in self._channels.values() if c.session is session]
            for c in lost:
                del self._channels[c.load_id]
        for c in lost:
            c.fail(f"the session of node {session.node} ended during the load")

    def forget(self, channel: ImageChannel) -> None:
        with self._lock:
            if self._channels.get(channel.load_id) is channel:
                del self._channels[channel.load_id]


def targets(start: orchestra_pb2.ImageLoadStart, known: list[str]) -> list[str]:
    """The nodes a load goes to: those named (each must exist), else every node."""
    if not start.nodes:
        return sorted(known)
    unknown = sorted(set(start.nodes) - set(known))
    if unknown:
        raise NotFound(f"no node named {', '.join(unknown)} (nodes: {', '.join(sorted(known)) or 'none'})")
    return sorted(set(start.nodes))


def check_start(first: orchestra_pb2.ImageLoadRequest | None) -> orchestra_pb2.ImageLoadStart:
    if first is None or first.WhichOneof("msg") != "start":
        raise InvalidArgument("the first ImageLoadRequest must be `start`: the archive's size and sha256")
    start = first.start
    if start.size <= 0:
        raise InvalidArgument(f"image archive {start.name or ''} is empty (size {start.size}); "
                              f"make one with `docker save`".replace("  ", " "))
    digest = start.sha256.lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise InvalidArgument(f"sha256 {start.sha256!r} is not 64 hexadecimal digits")
    return start


def load(relay: ImageRelay, sessions: SessionRegistry, nodes: list[str], status: Callable[[str], str],
         start: orchestra_pb2.ImageLoadStart, requests: Iterator[orchestra_pb2.ImageLoadRequest],
         is_active: Callable[[], bool], stopping: Callable[[], bool]) -> orchestra_pb2.ImageLoadResponse:
    """Relay the archive that follows `start` in `requests` to `nodes`; one result per node.
    `status(node)`: its Ready/NotReady status, for the message of a node that is not connected."""
    sha256 = start.sha256.lower()
    results: dict[str, orchestra_pb2.NodeImageLoad] = {}
    channels: list[ImageChannel] = []
    try:
        for node in nodes:
            session = sessions.get(node)
            if session is None:
                results[node] = orchestra_pb2.NodeImageLoad(
                    node=node, error=f"node {node} is not connected ({status(node)}); skipped")
                continue
            channels.append(relay.open(session, start.size, sha256))
        live = list(channels)

        def forward(data: bytes, last: bool) -> None:
            for ch in list(live):
                if not ch.send(data, last, is_active):
                    live.remove(ch)
            if not is_active():
                raise Unavailable("the caller went away; the load was cancelled")   # nobody reads this
            if stopping():
                raise Unavailable("the plane is shutting down; the load was cancelled on every node")

        digest = hashlib.sha256()
        received = 0
        held: bytes | None = None
        for req in requests:
            if req.WhichOneof("msg") != "chunk":
                raise InvalidArgument("only the first ImageLoadRequest may be `start`; the rest are `chunk`s")
            data = req.chunk
            if len(data) > MAX_CHUNK:
                raise InvalidArgument(f"a chunk of {len(data)} bytes (at most {MAX_CHUNK})")
            received += len(data)
            if received > start.size:
                raise InvalidArgument(f"the archive is longer than the {start.size} bytes announced; "
                                      f"nothing was loaded")
            digest.update(data)
            if held:
                forward(held, False)
            held = data
            if not live:
                break   # every target failed: nothing more to read
        if live:
            if received != start.size:
                raise InvalidArgument(f"the archive ended after {received} of the {start.size} bytes announced; "
                                      f"nothing was loaded")
            if digest.hexdigest() != sha256:
                raise InvalidArgument(f"the archive's sha256 is {digest.hexdigest()}, not {sha256} as announced "
                                      f"(corrupted on the way?); nothing was loaded")
            forward(held or b"", True)
        for ch in channels:
            while ch.wait(POLL_S) is None:
                if not is_active():
                    raise Unavailable("the caller went away; the load was cancelled")
                if stopping():
                    raise Unavailable("the plane is shutting down; the load was cancelled on every node")
            results[ch.node] = ch.result
        return orchestra_pb2.ImageLoadResponse(nodes=[results[n] for n in nodes])
    finally:
        for ch in channels:
            ch.close("the load was cancelled")
