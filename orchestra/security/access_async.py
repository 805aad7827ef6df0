"""The access rules of orchestra.security.access on the plane's asyncio gRPC server.

The rules, their messages and what a refusal records are access.py's; this only runs them
where the asyncio server needs them run: a handler written for threads (every unary and
server-streaming method) is wrapped exactly as access.AccessControl wraps it, and the agents'
Session, an async handler (orchestra.server.agent_streams), is checked here with the same
steps (certificate, then the Hello's node name and labels) and `await`ed refusals.
"""
from __future__ import annotations

import asyncio
import inspect
import logging

import grpc

from orchestra.security.access import SESSION_METHOD, AccessControl, check_hello, refusal
from orchestra.security.identity import Identity
from orchestra.server.sync_context import streaming_as_generators

log = logging.getLogger("orchestra.security.access")


def _is_async(handler: grpc.RpcMethodHandler) -> bool:
    fn = handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    return inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn)


async def _prepend(first, rest):
    yield first
    async for item in rest:
        yield item


class AsyncAccessControl(grpc.aio.ServerInterceptor):
    def __init__(self, access: AccessControl):
        self.access = access

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        behaviour = handler.stream_stream
        if method == SESSION_METHOD and behaviour is not None and inspect.isasyncgenfunction(behaviour):
            return self._session(handler, behaviour)
        if _is_async(handler):
            return self._guarded(handler, method)
        return streaming_as_generators(self.access.intercept_service(lambda _details: handler, handler_call_details))

    def _guarded(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        """An async handler (the health service), checked like access.py's _guarded checks a threaded one."""
        async def check(context) -> None:
            ident = self.access.identity(context)
            refused = refusal(method, ident)
            if refused is not None:
                await self._refuse(context, ident, *refused, method=method)

        des, ser = handler.request_deserializer, handler.response_serializer
        if handler.unary_unary:
            inner_uu = handler.unary_unary

            async def uu(request, context):
                await check(context)
                return await inner_uu(request, context)
            return grpc.unary_unary_rpc_method_handler(uu, des, ser)
        if handler.stream_unary:
            inner_su = handler.stream_unary

            async def su(requests, context):
                await check(context)
                return await inner_su(requests, context)
            return grpc.stream_unary_rpc_method_handler(su, des, ser)
        # A streaming handler answers by yielding (an async generator) or by context.write (a coroutine).
        inner = handler.unary_stream or handler.stream_stream
        make = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
        if inspect.isasyncgenfunction(inner):
            async def streaming(request, context):
                await check(context)
                async for item in inner(request, context):
                    yield item
        else:
            async def streaming(request, context):
                await check(context)
                return await inner(request, context)
        return make(streaming, des, ser)

    def _session(self, handler: grpc.RpcMethodHandler, inner) -> grpc.RpcMethodHandler:
        async def session(requests, context):
            ident = self.access.identity(context)
            refused = refusal(SESSION_METHOD, ident)
            if refused is not None:
                await self._refuse(context, ident, *refused)
            try:
                first = await requests.__anext__()
            except StopAsyncIteration:
                return
            mismatch, first = check_hello(first, ident)
            if mismatch:
                await self._refuse(context, ident, grpc.StatusCode.PERMISSION_DENIED, mismatch)
            async for item in inner(_prepend(first, requests), context):
                yield item
        return grpc.stream_stream_rpc_method_handler(session, handler.request_deserializer, handler.response_serializer)

    async def _refuse(self, context, ident: Identity, code: grpc.StatusCode, message: str,
                      method: str = SESSION_METHOD) -> None:
        log.warning("refused %s from %s: %s", method, context.peer(), message)
        try:   # the record is written by the store: off the event loop
            await asyncio.get_running_loop().run_in_executor(None, self.access.on_refused, ident, method, message)
        except Exception:                           # recording must never turn a refusal into an acceptance
            log.exception("recording a refusal failed")
        await context.abort(code, message)
