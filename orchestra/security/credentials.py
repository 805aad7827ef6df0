"""A node's own credentials in its state dir: stored by the join at its first start
(orchestra.security.join), read back by every later start without the X.509 library, so that
a joined agent never loads `cryptography` (about 10 MiB of resident memory, for good).
Reading them needs only the certificates' DER: a fingerprint is a hash of it, and the node's
name is the subject's common name.
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import pathlib
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from orchestra.security.private_files import ensure_private_dir, write_private
from orchestra.security.tokens import TokenError, parse_token
from orchestra.transport import ClientTLS

log = logging.getLogger("orchestra.security.join")

# Inside the agent's --state-dir.
TLS_DIR = "tls"
_BEGIN, _END = b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----"
_COMMON_NAME = bytes.fromhex("0603550403")     # DER of the OID 2.5.4.3 (commonName)


class JoinError(RuntimeError):
    """The agent could not join; the message says why (for the operator)."""


@dataclass(frozen=True)
class NodeCredentials:
    node_name: str
    tls: ClientTLS
    labels: Mapping[str, str] = field(default_factory=dict)


def paths(state_dir: str | pathlib.Path) -> dict[str, pathlib.Path]:
    d = pathlib.Path(state_dir) / TLS_DIR
    return {"dir": d, "key": d / "node.key", "cert": d / "node.crt", "ca": d / "ca.crt", "labels": d / "labels.json"}


def certificate_der(pem: bytes) -> bytes:
    """The DER of the first certificate in `pem`; ValueError if there is none."""
    start, end = pem.find(_BEGIN), pem.find(_END)
    if start < 0 or end < start:
        raise ValueError("no PEM certificate")
    return base64.b64decode(b"".join(pem[start + len(_BEGIN):end].split()), validate=True)


def fingerprint(pem: bytes) -> str:
    """sha256 of the certificate's DER, lowercase hex: what a join token pins."""
    return hashlib.sha256(certificate_der(pem)).hexdigest()


def _element(der: bytes, i: int) -> tuple[int, int, int]:
    """(tag, start, end) of the value of the DER element at offset i."""
    if i + 2 > len(der):
        raise ValueError("truncated DER")
    tag, n, i = der[i], der[i + 1], i + 2
    if n & 0x80:
        k = n & 0x7F
        n, i = int.from_bytes(der[i:i + k], "big"), i + k
    if i + n > len(der):
        raise ValueError("truncated DER")
    return tag, i, i + n


def _children(der: bytes, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    while start < end:
        element = _element(der, start)
        yield element
        start = element[2]


def subject_common_name(pem: bytes) -> str:
    """The subject's single commonName ("" when it has none or several); ValueError if `pem`
    is not a certificate. Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version,
    serial, signature, issuer, validity, subject, ... }, ... }."""
    der = certificate_der(pem)
    _, start, end = _element(der, 0)
    _, start, end = _element(der, start)
    fields = list(_children(der, start, end))
    if fields and fields[0][0] == 0xA0:
        fields = fields[1:]
    if len(fields) < 5:
        raise ValueError("not an X.509 certificate")
    names = []
    for _, rdn_start, rdn_end in _children(der, fields[4][1], fields[4][2]):
        for _, attr_start, attr_end in _children(der, rdn_start, rdn_end):
            _, _, oid_end = _element(der, attr_start)
            if der[attr_start:oid_end] == _COMMON_NAME:
                _, value_start, value_end = _element(der, oid_end)
                names.append(der[value_start:value_end].decode())
    return names[0] if len(names) == 1 else ""


def load_node_credentials(state_dir: str | pathlib.Path, node_name: str) -> NodeCredentials | None:
    """The credentials a previous join stored, or None when there are none. Raises JoinError when they
    belong to another node name (the operator must choose: keep the name or remove the state)."""
    p = paths(state_dir)
    if not (p["key"].exists() and p["cert"].exists() and p["ca"].exists()):
        return None
    cert_pem, ca_pem = p["cert"].read_bytes(), p["ca"].read_bytes()
    try:
        stored = subject_common_name(cert_pem)
    except ValueError as e:
        raise JoinError(f"{p['cert']} is not a readable certificate ({e}): remove {p['dir']} and join "
                        "again with a token") from None
    if stored != node_name:
        raise JoinError(f"{p['cert']} is the certificate of node {stored!r}, not {node_name!r}: "
                        f"run the agent with --name {stored}, or remove {p['dir']} and join again with a token")
    labels = json.loads(p["labels"].read_text()) if p["labels"].exists() else {}
    return NodeCredentials(node_name, ClientTLS(ca_pem, p["key"].read_bytes(), cert_pem), labels)


def stored_credentials(state_dir: str | pathlib.Path, node_name: str, token: str | None = None) -> NodeCredentials | None:
    """The stored credentials if they serve: None when there are none, or when `token` pins
    another CA than theirs (the plane's CA was replaced: the node must join again, which is
    how nodes follow a CA rotation)."""
    creds = load_node_credentials(state_dir, node_name)
    if creds is None or not token:
        return creds
    try:
        pinned = parse_token(token).ca_fingerprint
    except TokenError as e:
        raise JoinError(str(e)) from None
    if fingerprint(creds.tls.ca_pem) == pinned:
        return creds
    log.warning("the join token pins another CA than %s holds: joining again", paths(state_dir)["dir"])
    return None


def store_node_credentials(state_dir: str | pathlib.Path, creds: NodeCredentials) -> NodeCredentials:
    """Keep a node's key, certificate, CA and token labels in `<state dir>/tls/` (0600, dir 0700)."""
    p = paths(state_dir)
    ensure_private_dir(p["dir"])
    write_private(p["key"], creds.tls.key_pem)
    write_private(p["ca"], creds.tls.ca_pem)
    write_private(p["labels"], json.dumps(dict(creds.labels)))
    write_private(p["cert"], creds.tls.cert_pem)   # last: its presence means "joined"
    return creds
