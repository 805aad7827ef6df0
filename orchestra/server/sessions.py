"""Open agent sessions, one per node name, and the log requests travelling through them.

A session is a queue of messages for the node plus a way to end it with a status. The
gRPC servicer drains the queue; everything else only puts into it, so no caller ever
blocks on a slow agent.
"""
from __future__ import annotations

import itertools
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Callable

import grpc

from orchestra.api import agent_pb2


@dataclass(frozen=True)
class SessionEnd:
    code: grpc.StatusCode | None    # None: end the stream normally
    message: str


class AgentSession:
    _ids = itertools.count(1)

    def __init__(self, node: str, agent_instance: str):
        self.id = next(self._ids)
        self.node = node
        self.agent_instance = agent_instance
        self.outbox: queue.Queue = queue.Queue()
        self.last_sent_revision = -1
        self.last_sent_ms = 0
        self.applied_revision = 0      # the desired revision its agent says it converged to (heartbeats)
        self.ended = threading.Event()
        self.log_requests: set[str] = set()
        # Called after each put: the stream that drains the outbox waits on its event loop, not on the queue.
        self.notify: Callable[[], None] = lambda: None
        # Endpoints (orchestra.server.controllers.endpoints): what was sent, and what the agent says it routes by.
        self.last_sent_endpoints = -1
        self.last_sent_endpoints_ms = 0
        self.endpoints_ack = 0

    def send(self, msg: agent_pb2.PlaneMessage) -> None:
        if not self.ended.is_set():
            self.outbox.put(msg)
            self.notify()

    def end(self, code: grpc.StatusCode | None, message: str) -> None:
        if not self.ended.is_set():
            self.ended.set()
            self.outbox.put(SessionEnd(code, message))
            self.notify()


class SessionRegistry:
    def __init__(self):
        self._by_node: dict[str, AgentSession] = {}
        self._lock = threading.Lock()

    def register(self, session: AgentSession) -> AgentSession | None:
        """Make `session` the node's session; the one it replaces (if any) is ended."""
        with self._lock:
            old = self._by_node.get(session.node)
            self._by_node[session.node] = session
        if old is not None:
            old.end(grpc.StatusCode.ABORTED, f"replaced by a newer session of node {session.node}")
        return old

    def unregister(self, session: AgentSession) -> bool:
        with self._lock:
            if self._by_node.get(session.node) is session:
                del self._by_node[session.node]
                return True
            return False

    def get(self, node: str) -> AgentSession | None:
        with self._lock:
            return self._by_node.get(node)

    def all(self) -> list[AgentSession]:
        with self._lock:
            return list(self._by_node.values())


@dataclass(frozen=True)
class LogEnd:
    request_id: str
    error: str = ""


class LogRelay:
    """Routes LogData from agents to the Logs call waiting for its request id."""

    def __init__(self):
        self._waiting: dict[str, tuple[queue.Queue, AgentSession]] = {}
        self._lock = threading.Lock()

    def open(self, session: AgentSession, replica: str, follow: bool, tail: int, sink: queue.Queue) -> str:
        request_id = uuid.uuid4().hex
        with self._lock:
            self._waiting[request_id] = (sink, session)
            session.log_requests.add(request_id)
        session.send(agent_pb2.PlaneMessage(log_request=agent_pb2.LogRequest(
            request_id=request_id, replica_id=replica, follow=follow, tail=tail)))
        return request_id

    def deliver(self, session: AgentSession, data: agent_pb2.LogData) -> None:
        with self._lock:
            entry = self._waiting.get(data.request_id)
            if entry is None or entry[1] is not session:
                return  # unknown or cancelled request, or another node answering: drop
            if data.eof:
                del self._waiting[data.request_id]
                session.log_requests.discard(data.request_id)
        sink = entry[0]
        if data.data:
            sink.put((data.request_id, data.replica_id, bytes(data.data)))
        if data.eof:
            sink.put(LogEnd(data.request_id, data.error))

    def cancel(self, request_id: str) -> None:
        with self._lock:
            entry = self._waiting.pop(request_id, None)
            if entry:
                entry[1].log_requests.discard(request_id)
        if entry:
            entry[1].send(agent_pb2.PlaneMessage(log_cancel=agent_pb2.LogCancel(request_id=request_id)))

    def session_closed(self, session: AgentSession) -> None:
        """The node's stream is gone: every request through it ends with an error."""
        with self._lock:
            ids = [rid for rid, (_, s) in self._waiting.items() if s is session]
            entries = [self._waiting.pop(rid) for rid in ids]
        for rid, (sink, _) in zip(ids, entries):
            sink.put(LogEnd(rid, f"the session of node {session.node} closed"))
