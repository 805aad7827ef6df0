"""Answers the plane's LogRequests: a replica's container logs as LogData chunks, then eof.

Each request runs in its own thread; LogCancel (or the end of the session) closes the
Docker stream, which ends a follow at once.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable, Iterator

from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from orchestra.api import agent_pb2

log = logging.getLogger("orchestra.agent")

CHUNK_BYTES = 64 * 1024


def chunks(frames: Iterable[bytes], follow: bool, limit: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Join Docker's small frames into chunks of up to `limit` bytes. A follow yields each
    frame as it comes (it must stay live); a plain read batches."""
    buf = b""
    for frame in frames:
        if isinstance(frame, str):
            frame = frame.encode()
        if follow:
            for i in range(0, len(frame), limit):
                yield frame[i:i + limit]
            continue
        buf += frame
        while len(buf) >= limit:
            yield buf[:limit]
            buf = buf[limit:]
    if buf:
        yield buf


class LogStreams:
    def __init__(self, runtime: DockerRuntime, container_of: Callable[[str], str | None],
                 node: str):
        self.runtime = runtime
        self.container_of = container_of
        self.node = node
        self._open: dict[str, object] = {}          # request id -> docker stream (closable)
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    def start(self, req: agent_pb2.LogRequest, send: Callable[[agent_pb2.AgentMessage], None]):
        t = threading.Thread(target=self._serve, args=(req, send), daemon=True,
                             name=f"logs-{req.request_id[:8]}")
        t.start()
        return t

    def cancel(self, request_id: str) -> None:
        with self._lock:
            self._cancelled.add(request_id)
            stream = self._open.pop(request_id, None)
        if stream is not None:
            _close(stream)

    def cancel_all(self) -> None:
        with self._lock:
            ids = list(self._open)
        for rid in ids:
            self.cancel(rid)

    def _serve(self, req: agent_pb2.LogRequest, send) -> None:
        def msg(**kw):
            return agent_pb2.AgentMessage(log=agent_pb2.LogData(
                request_id=req.request_id, replica_id=req.replica_id, **kw))

        error = ""
        try:
            cid = self.container_of(req.replica_id)
            if not cid:
                error = f"no container for replica {req.replica_id} on node {self.node}"
                return
            stream = self.runtime.logs(cid, tail=req.tail, follow=req.follow)
            with self._lock:
                if req.request_id in self._cancelled:
                    _close(stream)
                    return
                self._open[req.request_id] = stream
            try:
                for data in chunks(stream, req.follow):
                    send(msg(data=data))
            except Exception as e:   # the stream was closed by a cancel, or broke
                with self._lock:
                    if req.request_id not in self._cancelled:
                        error = f"log stream broke: {e}"
        except (ContainerError, RuntimeUnavailable) as e:
            error = f"cannot read logs of {req.replica_id}: {e}"
        finally:
            with self._lock:
                stream = self._open.pop(req.request_id, None)
                self._cancelled.discard(req.request_id)
            if stream is not None:
                _close(stream)
            if error:
                log.warning("logs %s: %s", req.request_id, error)
            send(msg(eof=True, error=error))


def _close(stream) -> None:
    try:
        stream.close()
    except Exception:   # closing a stream that already broke
        pass
