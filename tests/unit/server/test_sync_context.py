"""Handlers written for threads on the asyncio gRPC server (SyncContexts), through a real server on
127.0.0.1 (PlaneServer): is_active() and code() as the threaded servicers and interceptors use
them, a threaded stream ended by its client's cancel, aborts that reach the client as sent."""
from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
import pytest

from orchestra.server.grpc_server import PlaneServer, _on_asyncio
from orchestra.server.sync_context import SyncContext, SyncContexts, streaming_as_generators
from tests.support.waiting import wait_for


class Handlers:
    """Threaded handlers that record what they saw."""

    def __init__(self):
        self.active_in_unary = None
        self.callback_ran = threading.Event()
        self.waiting = threading.Event()
        self.loop_left = threading.Event()
        self.closed = threading.Event()

    def unary(self, request: bytes, context) -> bytes:
        self.active_in_unary = context.is_active()
        if request == b"abort":
            context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
        return b"ok"

    def watch(self, request: bytes, context):
        """As WatchEvents does: one answer, then a wait for more that holds its thread while the call is active."""
        context.add_callback(self.callback_ran.set)
        try:
            yield b"first"
            self.waiting.set()
            while context.is_active():
                time.sleep(0.01)
            self.loop_left.set()
        finally:
            self.closed.set()

    def two_then_abort(self, request: bytes, context):
        yield b"1"
        yield b"2"
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, "stop here")

    def echo(self, requests, context):
        for r in requests:
            yield r.upper()


class Codes(grpc.ServerInterceptor):
    """A threaded interceptor (as the API metrics are): what code() says once the handler is done."""

    def __init__(self):
        self.seen = []

    def intercept_service(self, continuation, details):
        handler = continuation(details)
        if handler is None or not handler.unary_unary:
            return handler
        inner = handler.unary_unary

        def uu(request, context):
            try:
                return inner(request, context)
            finally:
                self.seen.append(context.code())
        return grpc.unary_unary_rpc_method_handler(uu)


class _NoAgentStreams:
    def close(self):
        pass


@pytest.fixture
def handlers():
    return Handlers()


@pytest.fixture
def codes():
    return Codes()


@pytest.fixture
def channel(handlers, codes):
    pool = futures.ThreadPoolExecutor(8)

    async def make():
        server = grpc.aio.server(migration_thread_pool=pool, interceptors=[SyncContexts(pool), _on_asyncio(codes)])
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Sync", {
            "Unary": grpc.unary_unary_rpc_method_handler(handlers.unary),
            "Watch": grpc.unary_stream_rpc_method_handler(handlers.watch),
            "TwoThenAbort": grpc.unary_stream_rpc_method_handler(handlers.two_then_abort),
            "Echo": grpc.stream_stream_rpc_method_handler(handlers.echo)}),))
        return server, server.add_insecure_port("127.0.0.1:0")
    server = PlaneServer(make, _NoAgentStreams())
    server.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield ch
    ch.close()
    server.stop(None).wait(10)
    pool.shutdown(wait=False)


def test_a_unary_handler_is_active_during_its_call(channel, handlers, codes):
    assert channel.unary_unary("/test.Sync/Unary")(b"", timeout=10) == b"ok"
    assert handlers.active_in_unary is True
    assert codes.seen == [None]


def test_a_unary_abort_reaches_the_client_and_interceptors_see_its_code(channel, codes):
    with pytest.raises(grpc.RpcError) as e:
        channel.unary_unary("/test.Sync/Unary")(b"abort", timeout=10)
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.NOT_FOUND, "no such thing")
    assert codes.seen == [grpc.StatusCode.NOT_FOUND]


def test_a_cancelled_stream_ends_its_handlers_loop_and_closes_it(channel, handlers):
    call = channel.unary_stream("/test.Sync/Watch")(b"", timeout=60)
    assert next(call) == b"first"
    wait_for("the handler to wait for more", handlers.waiting.is_set, timeout=30, every=0.02)
    call.cancel()                                 # while its thread waits in the loop
    wait_for("the handler's loop to end", handlers.loop_left.is_set, timeout=30, every=0.05)
    wait_for("the generator closed", handlers.closed.is_set, timeout=30, every=0.05)
    assert handlers.callback_ran.is_set()


def test_a_stream_past_its_deadline_ends_its_handler(channel, handlers):
    call = channel.unary_stream("/test.Sync/Watch")(b"", timeout=1)
    with pytest.raises(grpc.RpcError) as e:
        list(call)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_for("the generator closed", handlers.closed.is_set, timeout=30, every=0.05)   # its thread let go
    assert handlers.callback_ran.is_set()


def test_a_streaming_abort_follows_what_was_sent(channel):
    got = []
    with pytest.raises(grpc.RpcError) as e:
        for item in channel.unary_stream("/test.Sync/TwoThenAbort")(b"", timeout=10):
            got.append(item)
    assert got == [b"1", b"2"]
    assert (e.value.code(), e.value.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "stop here")


def test_a_threaded_bidirectional_handler_reads_the_requests_then_ends(channel):
    replies = channel.stream_stream("/test.Sync/Echo")(iter([b"a", b"b", b"c"]), timeout=10)
    assert list(replies) == [b"A", b"B", b"C"]
    assert replies.code() == grpc.StatusCode.OK


def test_a_streaming_context_runs_each_callback_once_even_past_a_failing_one():
    ctx = SyncContext(inner=None, streaming=True)
    ran = []
    assert ctx.add_callback(lambda: ran.append(1))
    assert ctx.add_callback(lambda: 1 / 0)
    assert ctx.add_callback(lambda: ran.append(3))
    assert ctx.is_active()
    ctx.ended()
    ctx.ended()
    assert ran == [1, 3] and not ctx.is_active()
    assert ctx.add_callback(lambda: ran.append(4)) is False and ran == [1, 3]


def test_streaming_as_generators_makes_a_plain_streaming_function_a_generator():
    def plain(request, context):
        return iter([request, request])
    made = streaming_as_generators(grpc.unary_stream_rpc_method_handler(plain))
    assert list(made.unary_stream(b"x", None)) == [b"x", b"x"]
    unary = grpc.unary_unary_rpc_method_handler(lambda r, c: r)
    assert streaming_as_generators(unary) is unary and streaming_as_generators(None) is None
