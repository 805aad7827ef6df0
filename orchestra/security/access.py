"""Which caller may call which RPC, enforced by one server interceptor before any servicer runs.

  AgentLink/Join      anyone who completed the TLS handshake (the token is checked by Join)
  AgentLink/Session   a node certificate whose CN is the Hello's node name (labels the
                      certificate fixes override the Hello's)
  grpc.health.v1      an admin or a node certificate: "is the plane serving?" tells nothing
                      secret, and an agent or a probe given a node certificate may ask it. Not a
                      peer with only the enrolment certificate: anyone can derive that one from
                      a join token's CA hash, so allowing it would open health to strangers
  server reflection   an admin certificate: it lists every service and method, which only an
                      operator's tools (grpcurl) need; nodes have no use for it
  everything else     an admin certificate (Orchestra/Exec too: it runs commands in any replica)

A refused call ends with UNAUTHENTICATED (no valid cluster certificate, or a revoked one) or
PERMISSION_DENIED (valid certificate, wrong role), with a message saying which and why; the
servicer never runs, so a refused call changes nothing in the store (only a refused *node*
certificate is recorded, as an event on that node, via `on_refused`).
"""
from __future__ import annotations

import itertools
import logging
from typing import Callable

import grpc

from orchestra.security.ca import ROLE_ADMIN, ROLE_NODE
from orchestra.security.identity import Identifier, Identity

log = logging.getLogger(__name__)

JOIN_METHOD = "/orchestra.v1.AgentLink/Join"
SESSION_METHOD = "/orchestra.v1.AgentLink/Session"
HEALTH_SERVICE = "/grpc.health.v1.Health/"
REFLECTION_SERVICES = ("/grpc.reflection.v1.ServerReflection/", "/grpc.reflection.v1alpha.ServerReflection/")
OPEN: tuple[str, ...] = ()        # no role needed


def required_roles(method: str) -> tuple[str, ...]:
    """The roles that may call `method` (OPEN: anyone past the TLS handshake)."""
    if method == JOIN_METHOD:
        return OPEN
    if method == SESSION_METHOD:
        return (ROLE_NODE,)
    if method.startswith(HEALTH_SERVICE):
        return (ROLE_ADMIN, ROLE_NODE)
    if method.startswith(REFLECTION_SERVICES):
        return (ROLE_ADMIN,)
    return (ROLE_ADMIN,)


def refusal(method: str, ident: Identity) -> tuple[grpc.StatusCode, str] | None:
    """None when `ident` may call `method`, else (status, message)."""
    need = required_roles(method)
    if need == OPEN:
        return None
    short = method.rsplit(".", 1)[-1]
    roles = " or ".join(need)
    if ident.anonymous:
        return (grpc.StatusCode.UNAUTHENTICATED,
                f"{short} needs a client certificate with role {roles} issued by this cluster's CA "
                f"({ident.reason or 'none presented'})")
    if ident.role not in need:
        return (grpc.StatusCode.PERMISSION_DENIED,
                f"{ident.role} {ident.name!r} may not call {short}: it needs role {roles}")
    return None


def check_hello(first, ident: Identity):
    """A Session's first message must be a Hello naming the node its certificate is for; the labels
    the certificate fixes (from the join token) replace whatever the Hello says for those keys.
    `first` is raw bytes (the plane parses Session messages itself) or an AgentMessage.
    Returns (refusal message or None, the first message to pass on)."""
    from orchestra.api import agent_pb2
    msg = first
    if isinstance(first, (bytes, bytearray)):
        try:
            msg = agent_pb2.AgentMessage.FromString(bytes(first))
        except Exception:
            return None, first                    # malformed: the servicer answers that precisely
    if msg.WhichOneof("msg") != "hello":
        return None, first
    if msg.hello.node_name != ident.name:
        return (f"node certificate for {ident.name!r} may not open a session as node "
                f"{msg.hello.node_name!r}"), first
    if not ident.labels or all(msg.hello.labels.get(k) == v for k, v in ident.labels.items()):
        return None, first
    fixed = agent_pb2.AgentMessage()
    fixed.CopyFrom(msg)
    fixed.hello.labels.update(ident.labels)
    return None, fixed.SerializeToString() if isinstance(first, (bytes, bytearray)) else fixed


class AccessControl(grpc.ServerInterceptor):
    """`on_refused(identity, method, message)` is told about each refusal (the plane records an event)."""

    def __init__(self, identifier: Identifier,
                 on_refused: Callable[[Identity, str, str], None] | None = None):
        self.identifier = identifier
        self.on_refused = on_refused or (lambda ident, method, message: None)

    def identity(self, context: grpc.ServicerContext) -> Identity:
        return self.identifier.from_context(context)

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method

        def check(context: grpc.ServicerContext) -> Identity:
            ident = self.identifier.from_context(context)
            refused = refusal(method, ident)
            if refused is not None:
                self._refuse(context, ident, method, *refused)
            return ident

        if method == SESSION_METHOD and handler.stream_stream:
            inner = handler.stream_stream

            def session(requests, context):
                ident = check(context)
                try:
                    first = next(requests)
                except StopIteration:
                    return iter(())
                mismatch, first = check_hello(first, ident)
                if mismatch:
                    self._refuse(context, ident, method, grpc.StatusCode.PERMISSION_DENIED, mismatch)
                return inner(itertools.chain([first], requests), context)
            return grpc.stream_stream_rpc_method_handler(session, handler.request_deserializer,
                                                         handler.response_serializer)
        return _guarded(handler, check)

    def _refuse(self, context, ident: Identity, method: str, code: grpc.StatusCode, message: str):
        log.warning("refused %s from %s: %s", method, context.peer(), message)
        try:
            self.on_refused(ident, method, message)
        except Exception:                           # recording must never turn a refusal into an acceptance
            log.exception("recording a refusal failed")
        context.abort(code, message)


def _guarded(handler: grpc.RpcMethodHandler, check: Callable[[grpc.ServicerContext], None]) -> grpc.RpcMethodHandler:
    des, ser = handler.request_deserializer, handler.response_serializer
    if handler.unary_unary:
        inner_uu = handler.unary_unary

        def uu(request, context):
            check(context)
            return inner_uu(request, context)
        return grpc.unary_unary_rpc_method_handler(uu, des, ser)
    if handler.unary_stream:
        inner_us = handler.unary_stream

        def us(request, context):
            check(context)
            return inner_us(request, context)
        return grpc.unary_stream_rpc_method_handler(us, des, ser)
    if handler.stream_unary:
        inner_su = handler.stream_unary

        def su(requests, context):
            check(context)
            return inner_su(requests, context)
        return grpc.stream_unary_rpc_method_handler(su, des, ser)
    inner_ss = handler.stream_stream

    def ss(requests, context):
        check(context)
        return inner_ss(requests, context)
    return grpc.stream_stream_rpc_method_handler(ss, des, ser)
