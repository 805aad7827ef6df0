"""The agents' streams (AgentLink.Session) on the asyncio gRPC server: a stream costs no thread.

The event loop moves messages: it reads each agent's and writes the plane's (a session's
outbox wakes it through `AgentSession.notify`). A message that writes nothing and waits for
nothing (most heartbeats, usage: AgentHub.on_message_now) is handled on the loop when nothing of
its session waits before it; what any other message does (orchestra.server.agent_hub) runs on a
small pool of threads, each session's messages in their order (one task per session at a time:
`InOrder`), so that a slow message holds up its own node only. Those threads never
wait for the store to write (orchestra.store.cache.never_wait): agents repeat their reports and
heartbeats anyway, and nothing is sent to an agent before what it reflects is written.

Answers are those of the thread-per-stream servicer (orchestra.server.servicers.AgentLinkServicer),
whose parsing it shares: garbage ends the stream with INVALID_ARGUMENT and says what was wrong, a
first message that is not hello too, a refusal is a Refusal message, the plane's own end of a
session is its SessionEnd status.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import grpc

from orchestra.api import agent_pb2
from orchestra.server.agent_hub import Refused
from orchestra.server.errors import PlaneError, ProtocolError
from orchestra.server.servicers import parse_agent_message
from orchestra.server.sessions import AgentSession, SessionEnd
from orchestra.store.cache import never_wait

log = logging.getLogger("orchestra.server")

HUB_THREADS = 16


class InOrder:
    """Runs calls on a shared pool one at a time, in the order they were given."""

    def __init__(self, pool: ThreadPoolExecutor):
        self._pool = pool
        self._calls: deque = deque()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, fn: Callable, *args) -> None:
        with self._lock:
            self._calls.append((fn, args))
            if self._running:
                return
            self._running = True
        self._pool.submit(self._drain)

    def idle(self) -> bool:
        """Nothing queued or running: a call made now would not overtake an earlier one."""
        with self._lock:
            return not self._running and not self._calls

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._calls:
                    self._running = False
                    return
                fn, args = self._calls.popleft()
            try:
                fn(*args)
            except Exception:   # each call reports its own failures; this only keeps the queue going
                log.exception("agent message handling failed")


class AgentStreams:
    """`hub_of()` is the hub a new session goes to: the plane's AgentHub, or the current term's
    (orchestra.server.leadership; it raises a PlaneError while this plane does not lead)."""

    def __init__(self, hub_of: Callable[[], object], threads: int = HUB_THREADS):
        self.hub_of = hub_of
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="agent-hub", initializer=never_wait)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def Session(self, requests, context):
        loop = asyncio.get_running_loop()
        try:
            raw = await requests.__anext__()
        except StopAsyncIteration:
            return
        try:
            first = parse_agent_message(raw)
        except ProtocolError as exc:
            await context.abort(exc.code, str(exc))
        kind = first.WhichOneof("msg")
        if kind != "hello":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                                f"the first message of a session must be hello, got {kind or 'an empty message'}")
        try:
            hub = self.hub_of()
        except PlaneError as exc:     # no longer the leader (orchestra.server.leadership)
            await context.abort(exc.code, str(exc))
        try:
            session = await loop.run_in_executor(self.pool, hub.open_session, first.hello)
        except Refused as exc:
            yield agent_pb2.PlaneMessage(refusal=agent_pb2.Refusal(reason=str(exc)))
            return
        woken = asyncio.Event()
        session.notify = lambda: loop.call_soon_threadsafe(woken.set)
        in_order = InOrder(self.pool)
        reader = asyncio.ensure_future(self._read(hub, session, requests, in_order))
        try:
            while True:
                try:
                    item = session.outbox.get_nowait()
                except queue.Empty:
                    woken.clear()
                    if session.outbox.empty():
                        await woken.wait()
                    continue
                if isinstance(item, SessionEnd):
                    if item.code is not None:
                        await context.abort(item.code, item.message)
                    return
                yield item
        finally:
            reader.cancel()
            session.notify = lambda: None
            in_order.submit(hub.close_session, session)

    async def _read(self, hub, session: AgentSession, requests, in_order: InOrder) -> None:
        try:
            async for raw in requests:
                hub.heard(session)      # alive now, however long the message waits for a hub thread
                try:
                    msg = parse_agent_message(raw)
                except ProtocolError as exc:
                    in_order.submit(session.end, exc.code, str(exc))
                    continue
                if not session.ended.is_set() and in_order.idle() and self._now(hub, session, msg):
                    continue
                in_order.submit(self._handle, hub, session, msg)
        except (grpc.RpcError, asyncio.CancelledError):
            pass   # the stream broke (liveness takes it from here), or the session ended
        except Exception:
            log.exception("reading the session of node %s failed", session.node)
        in_order.submit(session.end, None, "the agent closed the stream")

    @staticmethod
    def _now(hub, session: AgentSession, msg: agent_pb2.AgentMessage) -> bool:
        try:
            return hub.on_message_now(session, msg)
        except Exception:   # a bug here must not end the stream: the hub thread's path handles it
            log.exception("session of node %s: a message the event loop could not handle", session.node)
            return False

    @staticmethod
    def _handle(hub, session: AgentSession, msg: agent_pb2.AgentMessage) -> None:
        if session.ended.is_set():
            return
        try:
            hub.on_message(session, msg)
        except ProtocolError as exc:
            session.end(exc.code, str(exc))
        except Exception as exc:  # a bug must end this session only, never the plane
            log.exception("session of node %s failed", session.node)
            session.end(grpc.StatusCode.INTERNAL, f"plane error: {exc}")
