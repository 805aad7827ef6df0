"""Who is calling: the peer's TLS client certificate turned into a name and a role.

Only a certificate signed by the cluster CA counts; its subject CN is the name (a node name
or an admin name) and its OU the role. Anything else that got through the TLS handshake (the
enrolment certificate a joining node presents) is anonymous.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import grpc

from orchestra.security.ca import (CLIENT_ROLES, CertificateError, certificate_labels, load_cert, subject_name,
                                   subject_role, verify_issued_by)


@dataclass(frozen=True)
class Identity:
    name: str                     # "" when anonymous
    role: str                     # node | admin | "" (anonymous)
    serial: int = 0
    reason: str = ""              # why the caller is anonymous (for the refusal message)
    labels: Mapping[str, str] = field(default_factory=dict)   # fixed by the node's join token

    @property
    def anonymous(self) -> bool:
        return not self.role


ANONYMOUS = Identity("", "", 0, "no client certificate")


def serial_hex(serial: int) -> str:
    return format(serial, "x")


class Identifier:
    """Maps a peer certificate to an Identity against one CA, refusing revoked serials.

    `revoked(serial_hex)` is asked on every call (the plane's store answers), so a revocation takes
    effect on the caller's next call or connection without a restart.
    """

    def __init__(self, ca_cert_pem: bytes, revoked: Callable[[str], bool] | None = None):
        self._ca = load_cert(ca_cert_pem)
        self._revoked = revoked or (lambda serial: False)
        self._lock = threading.Lock()
        self._cache: dict[bytes, tuple[Identity, float]] = {}

    def from_pem(self, cert_pem: bytes) -> Identity:
        now = time.time()
        with self._lock:
            cached = self._cache.get(cert_pem)
        # A cached verdict holds until the certificate expires; then it is verified (and refused) again.
        if cached is None or now > cached[1]:
            cached = self._verify(cert_pem)
            with self._lock:
                if len(self._cache) > 4096:        # bound memory; verification is cheap to redo
                    self._cache.clear()
                self._cache[cert_pem] = cached
        ident = cached[0]
        if not ident.anonymous and self._revoked(serial_hex(ident.serial)):
            return Identity("", "", ident.serial,
                            reason=f"certificate serial {serial_hex(ident.serial)} of {ident.role} {ident.name!r} was revoked")
        return ident

    def _verify(self, cert_pem: bytes) -> tuple[Identity, float]:
        """(identity, until when this verdict holds: the certificate's expiry, or forever for a refusal)."""
        forever = float("inf")
        try:
            cert = load_cert(cert_pem)
        except CertificateError as e:
            return Identity("", "", 0, str(e)), forever
        try:
            verify_issued_by(cert, self._ca)
        except CertificateError as e:
            # Not yet valid is worth re-checking later; a bad signature never becomes good.
            return Identity("", "", cert.serial_number, str(e)), cert.not_valid_before_utc.timestamp()
        role, name = subject_role(cert), subject_name(cert)
        if role not in CLIENT_ROLES or not name:
            return Identity("", "", cert.serial_number, f"certificate has no client role (OU={role!r})"), forever
        try:
            labels = certificate_labels(cert)
        except CertificateError as e:
            return Identity("", "", cert.serial_number, str(e)), forever
        return Identity(name, role, cert.serial_number, labels=labels), cert.not_valid_after_utc.timestamp()

    def from_context(self, context: grpc.ServicerContext) -> Identity:
        return self.from_pem(peer_certificate_pem(context))


def peer_certificate_pem(context: grpc.ServicerContext) -> bytes:
    """The caller's leaf certificate (PEM) as the TLS layer saw it, or b'' when there is none."""
    try:
        certs = context.auth_context().get("x509_pem_cert") or []
    except Exception:
        return b""
    return certs[0] if certs else b""
