"""The Security gRPC service (admin only): join tokens and certificate revocation.
Thin: it translates between messages and the store; the rules live in tokens.py."""
from __future__ import annotations

import time
from typing import Callable

import grpc

from orchestra.api import security_pb2, security_pb2_grpc
from orchestra.security.tokens import TokenError, new_token, token_state
from orchestra.store.records import JoinTokenRecord

MAX_TTL_SECONDS = 10 * 365 * 86400


def _info(r: JoinTokenRecord, now_ms: int) -> security_pb2.JoinToken:
    return security_pb2.JoinToken(id=r.id, created_at_ms=r.created_at_ms, expires_at_ms=r.expires_at_ms,
                                  labels=dict(r.labels), state=token_state(r, now_ms))


class SecurityService(security_pb2_grpc.SecurityServicer):
    def __init__(self, store, ca_fingerprint: str, clock: Callable[[], float] = time.time,
                 record_event: Callable[[str, str, str, str], None] | None = None):
        self.store = store
        self.ca_fingerprint = ca_fingerprint
        self.clock = clock
        self.record_event = record_event or (lambda kind, obj, reason, message: None)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def CreateJoinToken(self, request, context):
        if not 0 <= request.ttl_seconds <= MAX_TTL_SECONDS:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"ttl_seconds must be between 0 (no expiry) and {MAX_TTL_SECONDS}")
        for k in request.labels:
            if not k:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a token label needs a non-empty key")
        now = self._now_ms()
        try:
            token, record = new_token(self.ca_fingerprint, now, request.ttl_seconds, dict(request.labels))
        except TokenError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        self.store.put_join_token(record)
        self.record_event("Cluster", f"token/{record.id}", "TokenCreated",
                          f"join token {record.id} created (expires {record.expires_at_ms or 'never'})")
        return security_pb2.CreateJoinTokenResponse(token=token, info=_info(record, now))

    def ListJoinTokens(self, request, context):
        now = self._now_ms()
        return security_pb2.ListJoinTokensResponse(tokens=[_info(r, now) for r in self.store.list_join_tokens()])

    def RevokeJoinToken(self, request, context):
        if self.store.get_join_token(request.id) is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"join token {request.id!r} not found")
        revoked = self.store.revoke_join_token(request.id)
        self.record_event("Cluster", f"token/{request.id}", "TokenRevoked", f"join token {request.id} revoked")
        return security_pb2.RevokeJoinTokenResponse(revoked=revoked)

    def RevokeNodeCertificate(self, request, context):
        serial = request.serial.strip().lower().removeprefix("0x")
        if not serial or any(c not in "0123456789abcdef" for c in serial):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"serial must be hexadecimal, got {request.serial!r}")
        serial = serial.lstrip("0") or "0"
        self.store.revoke_certificate(serial, self._now_ms(), request.reason)
        self.record_event("Cluster", f"certificate/{serial}", "CertificateRevoked",
                          f"certificate serial {serial} revoked: {request.reason or 'no reason given'}")
        return security_pb2.RevokeNodeCertificateResponse()
