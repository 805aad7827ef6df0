"""What a plane that does not lead answers (orchestra.server.leadership): every call but health,
reflection and ListPlanes ends at once with UNAVAILABLE, a message that names the leader (or
says why none leads: an election under way, a store without quorum), and the trailing metadata
clients move by (orchestra.endpoints): NOT_LEADER_KEY, and LEADER_KEY with the leader's address.
Nothing of the call was carried out, so a client may send any call again to another plane.

It runs after the access rules (orchestra.security.access): a caller without a valid
certificate learns nothing of the cluster's planes.
"""
from __future__ import annotations

import inspect

import grpc

from orchestra.endpoints import LEADER_KEY, NOT_LEADER_KEY

SERVED_BY_EVERY_PLANE = ("/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/",
                         "/grpc.reflection.v1alpha.ServerReflection/", "/orchestra.v1.Orchestra/ListPlanes")


class FollowerGate(grpc.aio.ServerInterceptor):
    def __init__(self, leadership):
        self.leadership = leadership

    def _refusal(self) -> tuple[str, tuple]:
        message, leader = self.leadership.refusal()
        metadata = ((NOT_LEADER_KEY, "1"),) + (((LEADER_KEY, leader),) if leader else ())
        return message, metadata

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(SERVED_BY_EVERY_PLANE):
            return handler
        gate = self
        des, ser = handler.request_deserializer, handler.response_serializer
        for kind, make in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                           ("unary_stream", grpc.unary_stream_rpc_method_handler),
                           ("stream_unary", grpc.stream_unary_rpc_method_handler),
                           ("stream_stream", grpc.stream_stream_rpc_method_handler)):
            inner = getattr(handler, kind)
            if inner is None:
                continue
            streaming = kind.endswith("_stream")
            if inspect.isasyncgenfunction(inner):
                async def agen(request, context, inner=inner):
                    if gate.leadership.term is None:
                        message, metadata = gate._refusal()
                        await context.abort(grpc.StatusCode.UNAVAILABLE, message, metadata)
                    async for item in inner(request, context):
                        yield item
                return make(agen, des, ser)
            if inspect.iscoroutinefunction(inner):
                async def coro(request, context, inner=inner):
                    if gate.leadership.term is None:
                        message, metadata = gate._refusal()
                        await context.abort(grpc.StatusCode.UNAVAILABLE, message, metadata)
                    return await inner(request, context)
                return make(coro, des, ser)
            if streaming:    # a generator, for the reason in orchestra.server.sync_context
                def gen(request, context, inner=inner):
                    if gate.leadership.term is None:
                        message, metadata = gate._refusal()
                        _abort(context, message, metadata)
                    yield from inner(request, context)
                return make(gen, des, ser)

            def plain(request, context, inner=inner):
                if gate.leadership.term is None:
                    message, metadata = gate._refusal()
                    _abort(context, message, metadata)
                return inner(request, context)
            return make(plain, des, ser)
        return handler


def _abort(context, message: str, metadata: tuple) -> None:
    context.set_trailing_metadata(metadata)
    context.abort(grpc.StatusCode.UNAVAILABLE, message)
