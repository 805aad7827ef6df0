import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from orchestra.security.ca import ROLE_ADMIN, ROLE_NODE, cert_to_pem, create_ca, new_csr
from orchestra.security.enrolment import enrolment_client_credentials
from orchestra.security.identity import Identifier, serial_hex
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography import x509


def test_cluster_certificates_map_to_name_and_role():
    ca = create_ca()
    ident = Identifier(ca.cert_pem)
    _, csr = new_csr("vm-1")
    node = ident.from_pem(ca.sign_csr(csr, "vm-1"))
    assert (node.name, node.role, node.anonymous) == ("vm-1", ROLE_NODE, False)
    admin = ident.from_pem(ca.issue_client("alice", ROLE_ADMIN).cert_pem)
    assert (admin.name, admin.role) == ("alice", ROLE_ADMIN)


def test_enrolment_and_foreign_certificates_are_anonymous_whatever_their_subject():
    ca = create_ca()
    ident = Identifier(ca.cert_pem)
    _, enrol = enrolment_client_credentials(ca.fingerprint)
    assert ident.from_pem(enrol).anonymous
    foreign = create_ca().issue_client("admin", ROLE_ADMIN).cert_pem
    assert "not issued by this cluster's CA" in ident.from_pem(foreign).reason
    assert ident.from_pem(b"").anonymous


def test_revoked_serial_is_anonymous_with_the_reason():
    ca = create_ca()
    issued = ca.issue_client("alice", ROLE_ADMIN).cert_pem
    serial = serial_hex(x509.load_pem_x509_certificate(issued).serial_number)
    revoked = {serial}
    ident = Identifier(ca.cert_pem, lambda s: s in revoked)
    got = ident.from_pem(issued)
    assert got.anonymous and f"certificate serial {serial} of admin 'alice' was revoked" == got.reason
    revoked.clear()
    assert not ident.from_pem(issued).anonymous


def test_expired_certificate_is_refused():
    ca = create_ca()
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vm-1"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ROLE_NODE)])
    old = ca._leaf(subject, key.public_key(), ExtendedKeyUsageOID.CLIENT_AUTH,
                   validity=-datetime.timedelta(minutes=1))
    got = Identifier(ca.cert_pem).from_pem(cert_to_pem(old))
    assert got.anonymous and "not valid now" in got.reason
