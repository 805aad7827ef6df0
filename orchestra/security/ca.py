"""The cluster certificate authority: it signs the plane's serving certificate, each node's
certificate (from the node's own CSR, so a node key never leaves its node) and admin client
certificates.

Keys are EC P-256 (fast, small, supported everywhere gRPC's TLS runs). A certificate's role
travels in the subject's organizational unit: `node` (CN = node name), `admin` or `server`.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Iterable, Mapping

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestra.spec.names import node_name_problem

ROLE_NODE = "node"
ROLE_ADMIN = "admin"
ROLE_SERVER = "server"
CLIENT_ROLES = (ROLE_NODE, ROLE_ADMIN)

CA_VALIDITY = datetime.timedelta(days=3650)
LEAF_VALIDITY = datetime.timedelta(days=365)
# Certificates start a little in the past so a peer whose clock lags slightly still accepts them.
BACKDATE = datetime.timedelta(minutes=5)

# A node name becomes a certificate CN, which X.509 limits to 64 characters.
MAX_NAME = 64


# Node labels fixed by the join token travel inside the node's certificate, so a node cannot
# claim other values for them. A private OID under the UUID arc (2.25, no registration needed);
# the value is a DER UTF8String holding a JSON object.
LABELS_OID = x509.ObjectIdentifier("2.25.285447685293070904553339278816209085410")


class CertificateError(ValueError):
    """A certificate or CSR that orchestra will not sign or use; the message says why."""


def new_private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def load_cert(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as e:
        raise CertificateError(f"not a PEM certificate: {e}") from None


def fingerprint(cert_or_pem: x509.Certificate | bytes) -> str:
    """sha256 of the certificate's DER, lowercase hex: what a join token pins."""
    cert = load_cert(cert_or_pem) if isinstance(cert_or_pem, bytes) else cert_or_pem
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def fingerprint_der(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def check_name(name: str) -> str:
    """A node name as the agent accepts it (letters, digits, '.', '_', '-'), at most 64 characters."""
    problem = node_name_problem(name)
    if problem or len(name) > MAX_NAME:
        raise CertificateError(f"invalid node name {name!r}: "
                               + (problem or f"at most {MAX_NAME} characters (a certificate's name)"))
    return name


def subject_role(cert: x509.Certificate) -> str:
    ous = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    return str(ous[0].value) if len(ous) == 1 else ""


def subject_name(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if len(cns) == 1 else ""


def _der_utf8(text: str) -> bytes:
    data = text.encode()
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    else:                                   # DER long form: 0x80 | byte count, then the length
        size = (n.bit_length() + 7) // 8
        length = bytes([0x80 | size]) + n.to_bytes(size, "big")
    return b"\x0c" + length + data


def _from_der_utf8(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x0C:
        raise CertificateError("labels extension is not a UTF8String")
    first = der[1]
    if first < 0x80:
        start, n = 2, first
    else:
        k = first & 0x7F
        start, n = 2 + k, int.from_bytes(der[2:2 + k], "big")
    if start + n != len(der):
        raise CertificateError("labels extension has a wrong length")
    return der[start:].decode()


def certificate_labels(cert: x509.Certificate) -> dict[str, str]:
    """The labels a node certificate fixes (from its join token); {} when it fixes none."""
    try:
        ext = cert.extensions.get_extension_for_oid(LABELS_OID).value
    except x509.ExtensionNotFound:
        return {}
    try:
        data = json.loads(_from_der_utf8(ext.value))
    except (ValueError, UnicodeDecodeError) as e:
        raise CertificateError(f"unreadable labels extension: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CertificateError("labels extension must hold a JSON object of strings")
    return data


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _san_entries(hosts: Iterable[str]) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    seen: set[str] = set()
    for h in hosts:
        h = h.strip().strip("[]")
        if not h or h in seen:
            continue
        seen.add(h)
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(h)))
        except ValueError:
            out.append(x509.DNSName(h))
    return out


def certificate_hosts(cert: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses a serving certificate is valid for."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(san.get_values_for_type(x509.DNSName)) | {
        str(ip) for ip in san.get_values_for_type(x509.IPAddress)}


@dataclass(frozen=True)
class IssuedCredentials:
    key_pem: bytes
    cert_pem: bytes


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> bytes:
        return cert_to_pem(self.cert)

    @property
    def key_pem(self) -> bytes:
        return key_to_pem(self.key)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert)

    def _leaf(self, subject: x509.Name, public_key, usage: x509.ObjectIdentifier,
              sans: list[x509.GeneralName] | None = None,
              validity: datetime.timedelta = LEAF_VALIDITY,
              extra: list[x509.ExtensionType] = ()) -> x509.Certificate:
        now = _now()
        builder = (x509.CertificateBuilder()
                   .subject_name(subject)
                   .issuer_name(self.cert.subject)
                   .public_key(public_key)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - BACKDATE)
                   .not_valid_after(min(now + validity, self.cert.not_valid_after_utc))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                   .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                                  critical=False))
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        for ext in extra:
            builder = builder.add_extension(ext, critical=False)
        return builder.sign(self.key, hashes.SHA256())

    def issue_server(self, hosts: Iterable[str]) -> IssuedCredentials:
        """The plane's serving certificate, valid for every name/address in `hosts`."""
        sans = _san_entries(hosts)
        if not sans:
            raise CertificateError("a serving certificate needs at least one host name or address")
        key = new_private_key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orchestra-server"),
                             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ROLE_SERVER)])
        cert = self._leaf(subject, key.public_key(), ExtendedKeyUsageOID.SERVER_AUTH, sans)
        return IssuedCredentials(key_to_pem(key), cert_to_pem(cert))

    def issue_client(self, name: str, role: str) -> IssuedCredentials:
        """A client key and certificate made here (for admins; nodes send a CSR instead)."""
        key = new_private_key()
        cert = self._client_cert(name, role, key.public_key())
        return IssuedCredentials(key_to_pem(key), cert_to_pem(cert))

    def sign_csr(self, csr_pem: bytes, name: str, role: str = ROLE_NODE,
                 labels: Mapping[str, str] | None = None) -> bytes:
        """Sign a node's CSR. The subject is set here (CN = `name`, OU = `role`), never taken from the CSR;
        `labels` (the join token's) are written into the certificate."""
        try:
            csr = x509.load_pem_x509_csr(csr_pem)
        except ValueError as e:
            raise CertificateError(f"not a PEM certificate signing request: {e}") from None
        if not csr.is_signature_valid:
            raise CertificateError("the CSR's signature does not match its public key")
        pub = csr.public_key()
        if not isinstance(pub, ec.EllipticCurvePublicKey) or pub.curve.name != "secp256r1":
            raise CertificateError("the CSR's key must be EC P-256")
        return cert_to_pem(self._client_cert(name, role, pub, labels))

    def _client_cert(self, name: str, role: str, public_key,
                     labels: Mapping[str, str] | None = None) -> x509.Certificate:
        if role not in CLIENT_ROLES:
            raise CertificateError(f"unknown client role {role!r}; expected one of {', '.join(CLIENT_ROLES)}")
        check_name(name)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                             x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role)])
        extra = [x509.UnrecognizedExtension(LABELS_OID, _der_utf8(json.dumps(dict(labels), sort_keys=True)))] \
            if labels else []
        return self._leaf(subject, public_key, ExtendedKeyUsageOID.CLIENT_AUTH, extra=extra)


def create_ca(common_name: str = "orchestra-ca", validity: datetime.timedelta = CA_VALIDITY) -> CertificateAuthority:
    key = new_private_key()
    now = _now()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    cert = (x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + validity)
            # path_length=0: this CA signs leaves only, never another CA.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return CertificateAuthority(cert, key)


def load_ca(cert_pem: bytes, key_pem: bytes) -> CertificateAuthority:
    cert = load_cert(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("the CA key must be an EC key")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():
        raise CertificateError("the CA key does not belong to the CA certificate")
    return CertificateAuthority(cert, key)


def new_csr(name: str) -> tuple[bytes, bytes]:
    """Agent side: a fresh key and a CSR for it. Returns (key_pem, csr_pem)."""
    check_name(name)
    key = new_private_key()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .sign(key, hashes.SHA256()))
    return key_to_pem(key), csr.public_bytes(serialization.Encoding.PEM)


def verify_issued_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> None:
    """Raise CertificateError unless `cert` is signed by `ca_cert` and valid now."""
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise CertificateError(f"certificate is not issued by this cluster's CA ({str(e) or type(e).__name__})") from None
    now = _now()
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        raise CertificateError(f"certificate is not valid now (valid {cert.not_valid_before_utc:%Y-%m-%d %H:%M} "
                               f"to {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC)")
