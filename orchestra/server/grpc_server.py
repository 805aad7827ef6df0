"""The one place the plane's gRPC server is assembled (the security layer adds its
interceptors and Join handler here).

Besides orchestra's services the port answers the standard gRPC health service
(grpc.health.v1.Health) and server reflection, so that grpcurl, grpc_health_probe or a load
balancer can talk to it; both pass the same mutual TLS and access rules (security/access.py)."""
from __future__ import annotations

from concurrent import futures
from typing import Callable, Sequence

import grpc
from google.protobuf.message import DecodeError
from google.protobuf.message_factory import GetMessageClass

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2
from orchestra.server.errors import InvalidArgument
from orchestra.server.plane import Plane
from orchestra.server.servicers import AgentLinkServicer, OrchestraServicer

# Each agent session and each Logs/WatchEvents stream holds one worker thread while open (an Exec: one
# worker and one thread of its own).
DEFAULT_MAX_WORKERS = 2048   # threads are created on demand, so a high cap costs nothing idle


def agent_link_handler(servicer: AgentLinkServicer) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler("orchestra.v1.AgentLink", {
        "Join": grpc.unary_unary_rpc_method_handler(
            servicer.Join, request_deserializer=agent_pb2.JoinRequest.FromString,
            response_serializer=agent_pb2.JoinResponse.SerializeToString),
        # No request deserializer: Session parses the bytes itself to answer garbage precisely.
        "Session": grpc.stream_stream_rpc_method_handler(
            servicer.Session, request_deserializer=None,
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


def standard_services(server: grpc.Server, service_names: Sequence[str]) -> None:
    """Health says SERVING for the whole server ("") and for each service once it is started
    (gRPC only serves after start); reflection describes every service, itself included."""
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection

    checks = health.HealthServicer()
    for name in ("", *service_names):
        checks.set(name, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(checks, server)
    reflection.enable_server_reflection((*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)


def build_server(plane: Plane, listen: str, *, join: Callable | None = None,
                 interceptors: Sequence[grpc.ServerInterceptor] = (),
                 extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
                 tls: "transport.ServerTLS | None" = None,
                 max_workers: int = DEFAULT_MAX_WORKERS) -> tuple[grpc.Server, int]:
    """A gRPC server with both services (and `extra_handlers`, e.g. the Security service), bound to
    `listen` (with `tls` when given; not started). Returns (server, port)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="grpc"),
                         interceptors=list(interceptors),
                         # Without this, gRPC sets SO_REUSEPORT and a second plane on the same port
                         # starts "successfully" and takes half of the connections.
                         options=[*transport.SERVER_OPTIONS, ("grpc.so_reuseport", 0)])
    handlers = (orchestra_handler(OrchestraServicer(plane)), agent_link_handler(AgentLinkServicer(plane, join)),
                *extra_handlers)
    server.add_generic_rpc_handlers(handlers)
    standard_services(server, [h.service_name() for h in handlers if hasattr(h, "service_name")])
    port = transport.add_listen_port(server, listen, tls) if tls is not None else \
        transport.add_listen_port(server, listen)
    return server, port
