"""The one place the plane's gRPC server is assembled (the security layer adds its
interceptors and Join handler here).

It is gRPC's asyncio server, on an event loop thread of its own (`PlaneServer`): the agents'
streams are coroutines (orchestra.server.agent_streams), so a connected agent costs no thread.
The user API, Join and the Security service keep their handlers written for threads: the
server runs them on its thread pool (`max_workers`; each Logs/WatchEvents stream holds one
thread while open), with a context that has is_active (orchestra.server.sync_context, which also
runs the streaming ones as coroutines, so that a call its client cancels ends).

Besides orchestra's services the port answers the standard gRPC health service
(grpc.health.v1.Health) and server reflection, so that grpcurl, grpc_health_probe or a load
balancer can talk to it; both pass the same mutual TLS and access rules (security/access.py)."""
from __future__ import annotations

import asyncio
import threading
from concurrent import futures
from typing import Callable, Sequence

import grpc
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2
from orchestra.security.access import AccessControl
from orchestra.security.access_async import AsyncAccessControl
from orchestra.server.agent_streams import AgentStreams
from orchestra.server.errors import InvalidArgument
from orchestra.server.servicers import AgentLinkServicer, OrchestraServicer
from orchestra.server.sync_context import SyncContexts, streaming_as_generators
from orchestra.store.cache import never_wait

# Threads for the user API: each Logs/WatchEvents stream holds one while open (an Exec: one, and one
# that reads its requests); created on demand, so a high cap costs nothing idle.
DEFAULT_MAX_WORKERS = 256


def agent_link_handler(servicer: AgentLinkServicer, streams: AgentStreams) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler("orchestra.v1.AgentLink", {
        "Join": grpc.unary_unary_rpc_method_handler(
            servicer.Join, request_deserializer=agent_pb2.JoinRequest.FromString,
            response_serializer=agent_pb2.JoinResponse.SerializeToString),
        # No request deserializer: Session parses the bytes itself to answer garbage precisely.
        "Session": grpc.stream_stream_rpc_method_handler(
            streams.Session, request_deserializer=None,
            response_serializer=agent_pb2.PlaneMessage.SerializeToString),
    })


def _parsed(method: Callable, request_type) -> Callable:
    """Wrap a servicer method that takes a message so that it takes the raw request bytes:
    gRPC answers a request it cannot deserialise with INTERNAL, but garbage from a client is
    the client's error, INVALID_ARGUMENT, and should say what was wrong."""
    def handler(raw: bytes, context: grpc.ServicerContext):
        try:
            request = request_type.FromString(raw)
        except DecodeError as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"malformed {request_type.DESCRIPTOR.full_name} ({len(raw)} bytes): {exc}")
        return method(request, context)
    return handler


def _parsed_stream(method: Callable, request_type) -> Callable:
    """`_parsed` for a request stream: each message is parsed as it is read, and garbage raises
    InvalidArgument to the servicer's reader (which ends the call with it)."""
    def parse_each(raws):
        for raw in raws:
            try:
                yield request_type.FromString(raw)
            except DecodeError as exc:
                raise InvalidArgument(f"malformed {request_type.DESCRIPTOR.full_name} ({len(raw)} bytes): {exc}") from exc

    def handler(raws, context: grpc.ServicerContext):
        return method(parse_each(raws), context)
    return handler


def orchestra_handler(servicer: OrchestraServicer) -> grpc.GenericRpcHandler:
    """The user-facing service, built from its descriptor (unary, server-streaming and bidirectional methods)."""
    handlers = {}
    for m in orchestra_pb2.DESCRIPTOR.services_by_name["Orchestra"].methods:
        if m.client_streaming:
            make = grpc.stream_stream_rpc_method_handler if m.server_streaming else grpc.stream_unary_rpc_method_handler
            parsed = _parsed_stream
        else:
            make = grpc.unary_stream_rpc_method_handler if m.server_streaming else grpc.unary_unary_rpc_method_handler
            parsed = _parsed
        handlers[m.name] = make(parsed(getattr(servicer, m.name), GetMessageClass(m.input_type)),
                                request_deserializer=None,
                                response_serializer=GetMessageClass(m.output_type).SerializeToString)
    return grpc.method_handlers_generic_handler("orchestra.v1.Orchestra", handlers)


async def standard_services(server: grpc.aio.Server, service_names: Sequence[str]) -> None:
    """Health says SERVING for the whole server ("") and for each service once it is started
    (gRPC only serves after start); reflection describes every service, itself included."""
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    checks = health.aio.HealthServicer()
    for name in ("", *service_names):
        await checks.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    reflection.enable_server_reflection((*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)


class _SyncInterceptor(grpc.aio.ServerInterceptor):
    """A grpc.ServerInterceptor (written for the thread-pool server) on the asyncio server."""

    def __init__(self, inner: grpc.ServerInterceptor):
        self.inner = inner

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        return streaming_as_generators(self.inner.intercept_service(lambda _details: handler, handler_call_details))


def _on_asyncio(interceptor) -> grpc.aio.ServerInterceptor:
    if isinstance(interceptor, grpc.aio.ServerInterceptor):
        return interceptor
    if isinstance(interceptor, AccessControl):
        return AsyncAccessControl(interceptor)
    return _SyncInterceptor(interceptor)


class _Stopping:
    def __init__(self, future, server: "PlaneServer"):
        self._future = future
        self._server = server

    def wait(self, timeout: float | None = None) -> bool:
        try:
            self._future.result(timeout)
        except futures.TimeoutError:
            return False
        finally:
            self._server.close_loop()
        return True


class PlaneServer:
    """The asyncio server on its own event loop thread, started and stopped like a grpc.Server."""

    def __init__(self, make: Callable[[], "asyncio.Future"], streams: AgentStreams):
        self.streams = streams
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="grpc-loop", daemon=True)
        self._thread.start()
        try:
            self.server, self.port = asyncio.run_coroutine_threadsafe(make(), self.loop).result()
        except BaseException:
            self.close_loop()
            raise

    def _run(self) -> None:
        never_wait()     # the loop must never wait for the store to write
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result()

    def stop(self, grace: float | None) -> _Stopping:
        return _Stopping(asyncio.run_coroutine_threadsafe(self.server.stop(grace), self.loop), self)

    def close_loop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
        self.streams.close()


def build_server(plane, listen: str, *, join: Callable | None = None,
                 interceptors: Sequence = (),
                 extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
                 tls: "transport.ServerTLS | None" = None,
                 max_workers: int = DEFAULT_MAX_WORKERS) -> tuple[PlaneServer, int]:
    """A gRPC server with both services (and `extra_handlers`, e.g. the Security service), bound to
    `listen` (with `tls` when given; not started). `plane` is a Plane, or anything with its
    `.service` and `.hub` (orchestra.server.leadership's view of the current one). Returns (server, port)."""
    streams = AgentStreams(getattr(plane, "term_hub", lambda: plane.hub))

    async def make():
        pool = futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc")
        server = grpc.aio.server(
            migration_thread_pool=pool,
            interceptors=[SyncContexts(pool), *(_on_asyncio(i) for i in interceptors)],
            # Without this, gRPC sets SO_REUSEPORT and a second plane on the same port
            # starts "successfully" and takes half of the connections.
            options=[*transport.SERVER_OPTIONS, ("grpc.so_reuseport", 0)])
        handlers = (orchestra_handler(OrchestraServicer(plane)),
                    agent_link_handler(AgentLinkServicer(plane, join), streams), *extra_handlers)
        server.add_generic_rpc_handlers(handlers)
        await standard_services(server, [h.service_name() for h in handlers if hasattr(h, "service_name")])
        port = transport.add_listen_port(server, listen, tls) if tls is not None else \
            transport.add_listen_port(server, listen)
        return server, port

    server = PlaneServer(make, streams)
    return server, server.port
