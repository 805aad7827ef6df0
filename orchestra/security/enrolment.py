"""How a node with only a join token reaches the plane's one mutual-TLS port.

gRPC for Python cannot make a TLS port that *asks* for a client certificate without
*requiring* one (require_client_auth=False means the certificate is not even requested, so
no caller could be identified). So the plane's port always requires a client certificate,
and a node that has none yet presents an *enrolment certificate*: issued by an "enrolment
CA" whose key anyone can derive from the cluster CA's fingerprint (which every join token
carries). It proves nothing about the caller; the plane lets such a caller call only
AgentLink/Join, where the token secret is checked. Its only purpose is to get through the
TLS handshake.

Before sending its secret the agent checks that the plane's chain contains the CA whose
fingerprint the token pins (`fetch_pinned_ca`); after that, every connection verifies the
plane's certificate properly against that CA.
"""
from __future__ import annotations

import datetime
import os
import socket
import ssl
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestra.security.ca import CertificateError, cert_to_pem, fingerprint_der, key_to_pem
from orchestra.security.private_files import write_private

ENROLMENT_CA_NAME = "orchestra-enrolment"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# Fixed dates make the enrolment CA identical wherever it is derived.
_NOT_BEFORE = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
_NOT_AFTER = datetime.datetime(2099, 12, 31, tzinfo=datetime.timezone.utc)


class PinningError(ConnectionError):
    """The plane could not be reached (`unreachable`) or is not the plane the token names."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


def _enrolment_key(ca_fingerprint: str) -> ec.EllipticCurvePrivateKey:
    okm = HKDF(algorithm=hashes.SHA256(), length=40, salt=None,
               info=b"orchestra enrolment CA v1").derive(bytes.fromhex(ca_fingerprint))
    scalar = int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def enrolment_root_pem(ca_fingerprint: str) -> bytes:
    """The enrolment CA certificate the plane adds to the roots it accepts client certificates from."""
    key = _enrolment_key(ca_fingerprint)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(ENROLMENT_CA_NAME)).issuer_name(_name(ENROLMENT_CA_NAME))
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(_NOT_BEFORE).not_valid_after(_NOT_AFTER)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256(), ecdsa_deterministic=True))     # RFC 6979: same bytes every time
    return cert_to_pem(cert)


def enrolment_client_credentials(ca_fingerprint: str) -> tuple[bytes, bytes]:
    """(key_pem, cert_pem) a node without a certificate uses to complete the TLS handshake for Join."""
    ca_key = _enrolment_key(ca_fingerprint)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name("enrolling-node")).issuer_name(_name(ENROLMENT_CA_NAME))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key_to_pem(key), cert_to_pem(cert)


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise PinningError(f"invalid address {address!r}: expected host:port")
    return host.strip("[]"), int(port)


def _unverified_chain_der(address: str, ca_fingerprint: str, timeout: float) -> list[bytes]:
    host, port = split_address(address)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Deliberately unverified: we only read the chain here and compare it with the pinned fingerprint.
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    # The plane requires a client certificate; present the enrolment one so the handshake completes.
    key_pem, cert_pem = enrolment_client_credentials(ca_fingerprint)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "enrolment.pem")
        write_private(path, key_pem + cert_pem)
        ctx.load_cert_chain(path)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=host or None) as tls:
                if hasattr(tls, "get_unverified_chain"):          # Python >= 3.13
                    return [bytes(c) if isinstance(c, (bytes, bytearray)) else c.public_bytes(ssl._ssl.ENCODING_DER)
                            for c in tls.get_unverified_chain()]
                return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in tls._sslobj.get_unverified_chain()]
    except ssl.SSLError as e:
        raise PinningError(f"TLS with the plane at {address} failed: {e}") from None
    except OSError as e:
        raise PinningError(f"cannot reach the plane at {address}: {e}", unreachable=True) from None


def fetch_pinned_ca(address: str, ca_fingerprint: str, timeout: float = 10.0) -> bytes:
    """The CA certificate (PEM) from the plane's TLS chain whose sha256 equals the token's fingerprint.

    Raises PinningError when the plane presents no such CA: then it is not our cluster's plane
    (or someone is in between), and the agent must not send its token secret.
    """
    chain = _unverified_chain_der(address, ca_fingerprint, timeout)
    for der in chain:
        if fingerprint_der(der) == ca_fingerprint:
            cert = x509.load_der_x509_certificate(der)
            return cert.public_bytes(serialization.Encoding.PEM)
    seen = ", ".join(fingerprint_der(d)[:16] + "..." for d in chain) or "none"
    raise PinningError(f"the plane at {address} does not present the CA the join token pins "
                       f"(expected sha256 {ca_fingerprint[:16]}..., chain has {seen}); not sending the token")


def check_ca_matches(ca_pem: bytes, ca_fingerprint: str) -> None:
    from orchestra.security.ca import fingerprint
    if fingerprint(ca_pem) != ca_fingerprint:
        raise CertificateError("the CA certificate does not match the join token's fingerprint")
