"""What a handler written for threads gets as its context on the asyncio gRPC server.

The asyncio server runs such handlers (the user API, Join, the Security service) on its
thread pool, unchanged, with a context that lacks one thing the thread-pool server's had and
the servicers use: `is_active()` (a WatchEvents or Logs stream ends when its caller went away).
`with_is_active` gives it back, from the RPC's own end callback; everything else is the
server's context.
"""
from __future__ import annotations

import inspect
import threading

import grpc


class SyncContext:
    def __init__(self, inner):
        self._inner = inner
        self._over = threading.Event()
        inner.add_callback(self._over.set)

    def is_active(self) -> bool:
        return not self._over.is_set()

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _wrapped(fn, streaming: bool):
    if streaming:
        # A generator: the asyncio server runs a streaming handler's failures (an abort before its first
        # answer) only from inside the iteration; raised by the call itself they would hang the call.
        def stream(request, context):
            yield from fn(request, SyncContext(context))
        return stream

    def behaviour(request, context):
        return fn(request, SyncContext(context))
    return behaviour


class SyncContexts(grpc.aio.ServerInterceptor):
    """Innermost interceptor: every handler that is not a coroutine gets a SyncContext."""

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
                return make(_wrapped(fn, kind.endswith("_stream")), des, ser)
        return handler


def streaming_as_generators(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler | None:
    """A threaded handler whose streaming behaviour is a plain function (e.g. an interceptor's check
    that may abort before it returns the stream) made a generator, for the reason in `_wrapped`."""
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
