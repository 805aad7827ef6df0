"""The plane's own key material, kept in `<data dir>/pki/` and made on first start:

  ca.crt, ca.key          the cluster CA (back it up; losing ca.key means re-joining every node)
  server.crt, server.key  the serving certificate; re-issued when the names it must cover change
  admin.crt, admin.key    the first admin's client certificate
and `<data dir>/admin.conf`, a client config for the CLI (rewritten at each start, since the
address may change).
"""
from __future__ import annotations

import datetime
import os
import pathlib
import socket
from dataclasses import dataclass
from typing import Callable, Iterable

from cryptography.hazmat.primitives import serialization

from orchestra.security.ca import (ROLE_ADMIN, CertificateAuthority, CertificateError, certificate_hosts, create_ca,
                                   load_ca, load_cert, verify_issued_by)
from orchestra.security.client_config import write_client_config
from orchestra.security.enrolment import enrolment_root_pem
from orchestra.security.private_files import ensure_private_dir, write_private
from orchestra.transport import ClientTLS, ServerTLS

WILDCARD_HOSTS = ("", "0.0.0.0", "::", "[::]")
ADMIN_NAME = "admin"
# Re-issue the serving certificate when it has less than this left.
RENEW_BEFORE = datetime.timedelta(days=30)


def serving_hosts(listen_address: str, extra: Iterable[str] = ()) -> list[str]:
    """Names the serving certificate must cover for a plane listening on `listen_address`."""
    host = listen_address.rpartition(":")[0].strip("[]")
    hosts = ["localhost", "127.0.0.1", "::1"]
    for h in [socket.gethostname() if host in WILDCARD_HOSTS else host, *extra]:
        if h and h not in hosts:
            hosts.append(h)
    return hosts


def client_address(listen_address: str, port: int) -> str:
    """The address a local client dials for a plane listening on `listen_address` (bound to `port`)."""
    host = listen_address.rpartition(":")[0]
    if host.strip("[]") in WILDCARD_HOSTS:
        host = "127.0.0.1"
    return f"{host}:{port}"


@dataclass(frozen=True)
class PlanePKI:
    directory: pathlib.Path
    ca: CertificateAuthority
    server_tls: ServerTLS
    admin_tls: ClientTLS

    @property
    def admin_config_path(self) -> pathlib.Path:
        return self.directory.parent / "admin.conf"

    def write_admin_config(self, server_address: str) -> pathlib.Path:
        return write_client_config(self.admin_config_path, server_address, self.admin_tls)


def _read(path: pathlib.Path) -> bytes:
    return path.read_bytes()


def ensure_plane_pki(data_dir: str | os.PathLike, hosts: Iterable[str],
                     revoked: Callable[[str], bool] = lambda serial: False) -> PlanePKI:
    """Load the plane's PKI from `data_dir`, creating what is missing. Idempotent.
    A revoked admin certificate (`revoked(serial hex)`) is replaced, so admin.conf works again."""
    d = ensure_private_dir(pathlib.Path(data_dir) / "pki")
    ca_crt, ca_key = d / "ca.crt", d / "ca.key"
    if ca_crt.exists() != ca_key.exists():
        raise CertificateError(f"{d}: found only one of ca.crt and ca.key; restore both or remove both "
                               "(removing them makes a new CA: every node must then join again)")
    if ca_crt.exists():
        ca = load_ca(_read(ca_crt), _read(ca_key))
    else:
        ca = create_ca()
        write_private(ca_key, ca.key_pem)
        write_private(ca_crt, ca.cert_pem)

    hosts = list(hosts)
    srv_crt, srv_key = d / "server.crt", d / "server.key"
    if not _still_good(srv_crt, srv_key, ca, set(hosts)):
        issued = ca.issue_server(hosts)
        write_private(srv_key, issued.key_pem)
        write_private(srv_crt, issued.cert_pem)

    adm_crt, adm_key = d / "admin.crt", d / "admin.key"
    if not _still_good(adm_crt, adm_key, ca, set()) or revoked(format(load_cert(_read(adm_crt)).serial_number, "x")):
        issued = ca.issue_client(ADMIN_NAME, ROLE_ADMIN)
        write_private(adm_key, issued.key_pem)
        write_private(adm_crt, issued.cert_pem)

    server_tls = ServerTLS(key_pem=_read(srv_key), cert_chain_pem=_read(srv_crt) + ca.cert_pem,
                           client_roots_pem=ca.cert_pem + enrolment_root_pem(ca.fingerprint))
    admin_tls = ClientTLS(ca_pem=ca.cert_pem, key_pem=_read(adm_key), cert_pem=_read(adm_crt))
    return PlanePKI(d, ca, server_tls, admin_tls)


def _still_good(crt: pathlib.Path, key: pathlib.Path, ca: CertificateAuthority, must_cover: set[str]) -> bool:
    """True when the certificate exists, is from this CA, covers `must_cover` and is not near expiry."""
    if not (crt.exists() and key.exists()):
        return False
    try:
        cert = load_cert(_read(crt))
        verify_issued_by(cert, ca.cert)
        key_pub = serialization.load_pem_private_key(_read(key), password=None).public_key()
    except (CertificateError, ValueError, TypeError):
        return False
    if key_pub.public_numbers() != cert.public_key().public_numbers():
        return False                                  # a key that is not the certificate's: re-issue both
    if not must_cover <= certificate_hosts(cert):
        return False
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return left > RENEW_BEFORE
