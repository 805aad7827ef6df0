import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestra.security.ca import (ROLE_ADMIN, ROLE_NODE, CertificateError, create_ca, fingerprint, load_ca,
                                   load_cert, new_csr, subject_name, subject_role, verify_issued_by)


@pytest.fixture(scope="module")
def ca():
    return create_ca()


def test_ca_is_a_constrained_p256_ca_valid_for_years(ca):
    cert = ca.cert
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > datetime.timedelta(days=3000)


def test_fingerprint_is_sha256_of_der(ca):
    import hashlib
    from cryptography.hazmat.primitives import serialization
    assert ca.fingerprint == hashlib.sha256(ca.cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert fingerprint(ca.cert_pem) == ca.fingerprint and len(ca.fingerprint) == 64


def test_server_cert_covers_ip_and_dns_names(ca):
    issued = ca.issue_server(["127.0.0.1", "localhost", "::1", "plane.example"])
    cert = load_cert(issued.cert_pem)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.IPAddress)) == {ipaddress.ip_address("127.0.0.1"),
                                                              ipaddress.ip_address("::1")}
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost", "plane.example"}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    verify_issued_by(cert, ca.cert)


def test_server_cert_needs_a_host(ca):
    with pytest.raises(CertificateError, match="at least one host"):
        ca.issue_server([])


def test_signing_a_csr_sets_the_subject_from_the_plane_not_the_csr(ca):
    key_pem, csr_pem = new_csr("vm-1")
    cert = load_cert(ca.sign_csr(csr_pem, "vm-1"))
    assert subject_name(cert) == "vm-1" and subject_role(cert) == ROLE_NODE
    assert ExtendedKeyUsageOID.CLIENT_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    # A CSR asking for role admin still yields a node certificate.
    key = ec.generate_private_key(ec.SECP256R1())
    sneaky = (x509.CertificateSigningRequestBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "admin"),
                                       x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ROLE_ADMIN)]))
              .sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives import serialization
    cert = load_cert(ca.sign_csr(sneaky.public_bytes(serialization.Encoding.PEM), "vm-2"))
    assert (subject_name(cert), subject_role(cert)) == ("vm-2", ROLE_NODE)


def test_csr_with_other_key_type_or_garbage_is_refused(ca):
    from cryptography.hazmat.primitives import serialization
    key = ed25519.Ed25519PrivateKey.generate()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vm-1")])).sign(key, None))
    with pytest.raises(CertificateError, match="EC P-256"):
        ca.sign_csr(csr.public_bytes(serialization.Encoding.PEM), "vm-1")
    with pytest.raises(CertificateError, match="not a PEM certificate signing request"):
        ca.sign_csr(b"hello", "vm-1")


@pytest.mark.parametrize("name", ["", "-a", "a-", "a b", "a" * 65, "nöde", "a/b", "a\n"])
def test_invalid_node_names_are_refused(ca, name):
    _, csr = new_csr("ok")
    with pytest.raises(CertificateError, match="invalid node name"):
        ca.sign_csr(csr, name)


def test_client_roles_are_checked(ca):
    with pytest.raises(CertificateError, match="unknown client role"):
        ca.issue_client("x", "server")
    admin = load_cert(ca.issue_client("admin", ROLE_ADMIN).cert_pem)
    assert subject_role(admin) == ROLE_ADMIN


def test_certificate_from_another_ca_does_not_verify(ca):
    other = create_ca()
    cert = load_cert(other.issue_client("admin", ROLE_ADMIN).cert_pem)
    with pytest.raises(CertificateError, match="not issued by this cluster's CA"):
        verify_issued_by(cert, ca.cert)


def test_load_ca_round_trips_and_rejects_a_foreign_key(ca):
    again = load_ca(ca.cert_pem, ca.key_pem)
    assert again.fingerprint == ca.fingerprint
    with pytest.raises(CertificateError, match="does not belong"):
        load_ca(ca.cert_pem, create_ca().key_pem)


def test_labels_travel_in_the_node_certificate(ca):
    from orchestra.security.ca import certificate_labels
    _, csr = new_csr("vm-1")
    long_value = "v" * 500                     # DER long-form length
    cert = load_cert(ca.sign_csr(csr, "vm-1", labels={"zone": "a", "note": long_value}))
    assert certificate_labels(cert) == {"zone": "a", "note": long_value}
    assert certificate_labels(load_cert(ca.sign_csr(csr, "vm-1"))) == {}
