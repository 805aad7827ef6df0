"""Image loads the plane relays over the session (agent.proto, ImageTransfer): the archive's
chunks are fed to the engine (POST /images/load) as they come, on a thread per load, and the
plane is granted credit for each chunk the engine took, so at most a window of one load waits
here. The last chunk goes to the engine only when the archive's size and sha256 match what the
plane announced; otherwise the upload is aborted and the engine loads nothing.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import deque
from typing import Callable, Iterator

from agent.runtime.docker import DockerRuntime, ImageLoadError, RuntimeUnavailable
from orchestra.api import agent_pb2

log = logging.getLogger("orchestra.agent")

Send = Callable[[agent_pb2.AgentMessage], None]


class Aborted(Exception):
    """The load was given up before the engine had all of it; str() says why."""


class ImageLoad:
    def __init__(self, transfer: agent_pb2.ImageTransfer, runtime: DockerRuntime, node: str, send: Send,
                 on_end: Callable[["ImageLoad", bool], None]):
        self.load_id = transfer.load_id
        self.size = transfer.size
        self.sha256 = transfer.sha256.lower()
        self.window = transfer.window
        self.runtime = runtime
        self.node = node
        self._send = send
        self._on_end = on_end
        self._cond = threading.Condition()
        self._chunks: deque[tuple[bytes, bool]] = deque()
        self._queued = 0
        self._received = 0
        self._digest = hashlib.sha256()
        self._aborted = ""
        self._thread = threading.Thread(target=self._run, name=f"image-{self.load_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- the session's reader thread --------------------------------------------------------------
    def put(self, chunk: agent_pb2.ImageChunk) -> None:
        with self._cond:
            if self._aborted:
                return
            self._received += len(chunk.data)
            self._queued += len(chunk.data)
            if self.window and self._queued > self.window:
                self._aborted = (f"the plane sent {self._queued} bytes of the image with credit for "
                                 f"{self.window}; the load was stopped")
            else:
                self._digest.update(chunk.data)
                self._chunks.append((bytes(chunk.data), chunk.last))
            self._cond.notify_all()

    def cancel(self, reason: str) -> None:
        with self._cond:
            if not self._aborted:
                self._aborted = reason or "cancelled by the plane"
            self._cond.notify_all()

    # -- the load's own thread ---------------------------------------------------------------------
    def _archive(self) -> Iterator[bytes]:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._chunks or self._aborted)
                if self._aborted:
                    raise Aborted(self._aborted)
                data, last = self._chunks.popleft()
                if last:
                    problem = self._mismatch()
                    if problem:
                        self._aborted = problem
                        raise Aborted(problem)
            if data:
                yield data      # resumed once the engine's connection took it
            with self._cond:
                self._queued -= len(data)
            self._send(agent_pb2.AgentMessage(image_load=agent_pb2.ImageLoadStatus(
                load_id=self.load_id, credit=len(data))))
            if last:
                return

    def _mismatch(self) -> str:
        if self._received != self.size:
            return f"received {self._received} bytes of an image archive of {self.size}; nothing was loaded"
        got = self._digest.hexdigest()
        if got != self.sha256:
            return f"the image archive's sha256 is {got}, not {self.sha256}; nothing was loaded"
        return ""

    def _run(self) -> None:
        status = agent_pb2.ImageLoadStatus(load_id=self.load_id)
        try:
            status.images.extend(self.runtime.load_image(self._archive()))
            status.done = True
            log.info("loaded image archive (%d bytes): %s", self.size, ", ".join(status.images) or "nothing named")
        except Exception as e:   # whatever broke the upload: the plane must hear the end of this load
            with self._cond:
                reason = self._aborted
            if not reason:
                if isinstance(e, (ImageLoadError, RuntimeUnavailable)):
                    reason = f"the engine of node {self.node} did not load the image: {e}"
                else:
                    reason = f"the image load on node {self.node} failed: {e}"
                    log.exception("image load %s failed", self.load_id)
            status.error = reason
            log.warning("image load failed: %s", reason)
        self._send(agent_pb2.AgentMessage(image_load=status))
        self._on_end(self, status.done)


class ImageLoads:
    """The loads in flight, by load id; `on_loaded()` runs after a load that succeeded (the node's
    image inventory changed)."""

    def __init__(self, runtime: DockerRuntime, node: str, on_loaded: Callable[[], None]):
        self.runtime = runtime
        self.node = node
        self.on_loaded = on_loaded
        self._loads: dict[str, ImageLoad] = {}
        self._lock = threading.Lock()

    def start(self, transfer: agent_pb2.ImageTransfer, send: Send) -> None:
        load = ImageLoad(transfer, self.runtime, self.node, send, self._ended)
        with self._lock:
            self._loads[load.load_id] = load
        load.start()

    def chunk(self, chunk: agent_pb2.ImageChunk) -> None:
        with self._lock:
            load = self._loads.get(chunk.load_id)
        if load is not None:
            load.put(chunk)

    def cancel(self, load_id: str, reason: str = "") -> None:
        with self._lock:
            load = self._loads.get(load_id)
        if load is not None:
            load.cancel(reason)

    def cancel_all(self) -> None:
        with self._lock:
            loads = list(self._loads.values())
        for load in loads:
            load.cancel("the session with the plane ended")

    def _ended(self, load: ImageLoad, loaded: bool) -> None:
        with self._lock:
            self._loads.pop(load.load_id, None)
        if loaded:
            self.on_loaded()
