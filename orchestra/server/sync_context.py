"""Handlers written for threads on the asyncio gRPC server.

The asyncio server runs such handlers (the user API, Join, the Security service) on its
thread pool. Unary ones run as they are, with a context (`SyncContext`) that adds what the
thread-pool server's context had and the servicers and interceptors use: `is_active()` and
`code()` (the API metrics count calls by it).

Streaming ones (WatchEvents, Logs, Exec) are different: the asyncio server never tells a
threaded stream that its client went away (no callback fires, nothing is iterated again), so
a cancelled watch would hold its thread for ever. They are run here as coroutines instead
(`SyncContexts`): each answer is taken from the handler's generator on the pool, the request
stream (Exec) is read from the event loop for the thread, and when the call ends, however it
ends, the context turns inactive and its callbacks run, so the handler's loop ends and the
generator is closed once its thread lets go of it.
"""
from __future__ import annotations

import asyncio
import inspect
import threading
from concurrent import futures
from typing import Callable

import grpc


class _Aborted(Exception):
    """A threaded streaming handler aborted the call; the coroutine ends it with this status."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(details)
        self.code, self.details = code, details


class SyncContext:
    """The context a threaded handler gets: `inner` is the server's (the unary handlers'
    thread context, or the asyncio context of a streaming call run by `_as_coroutine`)."""

    def __init__(self, inner, streaming: bool = False):
        self._inner = inner
        self._streaming = streaming
        self._over = threading.Event()
        self._code: grpc.StatusCode | None = None
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        if not streaming:
            inner.add_callback(self._over.set)

    def is_active(self) -> bool:
        return not self._over.is_set()

    def code(self) -> grpc.StatusCode | None:
        return self._code

    def set_code(self, code: grpc.StatusCode) -> None:
        self._code = code
        self._inner.set_code(code)

    def abort(self, code: grpc.StatusCode, details: str = ""):
        # Raised through every interceptor's handler (their `finally` sees code()) and sent by the
        # outermost one: the server's own abort would send the status at once, before they ran.
        self._code = code
        raise _Aborted(code, details)

    def add_callback(self, callback: Callable[[], None]) -> bool:
        if not self._streaming:
            return self._inner.add_callback(callback)
        with self._lock:
            if not self._over.is_set():
                self._callbacks.append(callback)
                return True
        return False

    def ended(self) -> None:
        """The call is over (streaming): inactive from now, and its callbacks run once."""
        with self._lock:
            self._over.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            try:
                cb()
            except Exception:  # noqa: BLE001 - one callback's failure must not skip the others
                pass

    def __getattr__(self, name):
        return getattr(self._inner, name)


_DONE = object()


def _next(gen):
    return next(gen, _DONE)


def _requests_for_thread(requests, loop: asyncio.AbstractEventLoop, ctx: SyncContext):
    """The call's request stream (read on the event loop) as a plain iterator for the thread."""
    while ctx.is_active():
        try:
            item = asyncio.run_coroutine_threadsafe(requests.__anext__(), loop).result()
        except (StopAsyncIteration, futures.CancelledError, asyncio.CancelledError, RuntimeError):
            return
        except grpc.RpcError:
            return
        yield item


def _as_coroutine(fn, request_streaming: bool, pool: futures.Executor):
    async def stream(request, context):
        loop = asyncio.get_running_loop()
        ctx = SyncContext(context, streaming=True)
        arg = _requests_for_thread(request, loop, ctx) if request_streaming else request
        gen = None
        pending = None
        try:
            gen = await loop.run_in_executor(pool, lambda: iter(fn(arg, ctx)))
            while True:
                pending = loop.run_in_executor(pool, _next, gen)
                item = await pending
                pending = None
                if item is _DONE:
                    return
                yield item
        except _Aborted as exc:
            await context.abort(exc.code, exc.details)
        finally:
            ctx.ended()
            if gen is not None:
                closing = lambda *_: pool.submit(gen.close)  # noqa: E731
                if pending is not None and not pending.done():
                    pending.add_done_callback(closing)   # the thread still runs it: close it after
                else:
                    closing()
    return stream


class SyncContexts(grpc.aio.ServerInterceptor):
    """Outermost interceptor: every handler that is not a coroutine gets a SyncContext (which every
    threaded interceptor inside it, access rules, API metrics, the follower gate, then sees), and a
    streaming one is run as a coroutine over `pool`."""

    def __init__(self, pool: futures.Executor):
        self.pool = pool

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        des, ser = handler.request_deserializer, handler.response_serializer
        for kind, make in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                           ("unary_stream", grpc.unary_stream_rpc_method_handler),
                           ("stream_unary", grpc.stream_unary_rpc_method_handler),
                           ("stream_stream", grpc.stream_stream_rpc_method_handler)):
            fn = getattr(handler, kind)
            if fn is not None:
                if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
                    return handler
                if kind.endswith("_stream"):
                    return make(_as_coroutine(fn, kind.startswith("stream"), self.pool), des, ser)
                return make(_unary(fn), des, ser)
        return handler


def _unary(fn):
    def behaviour(request, context):
        try:
            return fn(request, SyncContext(context))
        except _Aborted as exc:
            context.abort(exc.code, exc.details)
    return behaviour


def streaming_as_generators(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler | None:
    """A threaded handler whose streaming behaviour is a plain function (e.g. an interceptor's check
    that may abort before it returns the stream) made a generator, so that its abort happens while
    `_as_coroutine` iterates it."""
    if handler is None:
        return None
    for kind, make in (("unary_stream", grpc.unary_stream_rpc_method_handler),
                       ("stream_stream", grpc.stream_stream_rpc_method_handler)):
        fn = getattr(handler, kind)
        if fn is not None and not (inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)
                                   or inspect.iscoroutinefunction(fn)):
            def stream(request, context, fn=fn):
                yield from fn(request, context)
            return make(stream, handler.request_deserializer, handler.response_serializer)
    return handler
