"""The node's stored credentials, read without the X.509 library: the same answers as
cryptography gives, and the same decisions as before (join again when the CA changed)."""
import pytest

from orchestra.security import credentials
from orchestra.security.ca import ROLE_NODE, create_ca, fingerprint, load_cert, new_csr, subject_name
from orchestra.security.credentials import JoinError, NodeCredentials, store_node_credentials, stored_credentials
from orchestra.security.tokens import new_token
from orchestra.transport import ClientTLS


@pytest.fixture(scope="module")
def ca():
    return create_ca()


def node_cert(ca, name):
    key_pem, csr_pem = new_csr(name)
    return key_pem, ca.sign_csr(csr_pem, name, ROLE_NODE, {"zone": "a"})


@pytest.mark.parametrize("name", ["vm-1", "a", "node.with-dots_and-64-chars-" + "x" * 36])
def test_subject_common_name_and_fingerprint_agree_with_cryptography(ca, name):
    _, cert_pem = node_cert(ca, name)
    assert credentials.subject_common_name(cert_pem) == subject_name(load_cert(cert_pem)) == name
    assert credentials.fingerprint(ca.cert_pem) == fingerprint(ca.cert_pem)
    assert credentials.fingerprint(cert_pem) == fingerprint(cert_pem)


def test_a_ca_with_a_long_subject_and_extensions_is_read_too(ca):
    # The CA certificate has extensions and a v3 version field; its CN is the CA's name.
    assert credentials.subject_common_name(ca.cert_pem) == subject_name(ca.cert)


@pytest.mark.parametrize("pem", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
                                 b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n"])
def test_what_is_not_a_certificate_is_a_value_error(pem):
    with pytest.raises(ValueError):
        credentials.subject_common_name(pem)


def stored(tmp_path, ca, name="vm-1"):
    key_pem, cert_pem = node_cert(ca, name)
    store_node_credentials(tmp_path, NodeCredentials(name, ClientTLS(ca.cert_pem, key_pem, cert_pem), {"zone": "a"}))
    return tmp_path


def test_stored_credentials_serve_a_later_start(tmp_path, ca):
    state = stored(tmp_path, ca)
    token, _ = new_token(ca.fingerprint, 0, ttl_seconds=0)
    creds = stored_credentials(state, "vm-1", token)
    assert creds.node_name == "vm-1" and creds.labels == {"zone": "a"}
    assert stored_credentials(state, "vm-1") == creds
    assert stored_credentials(tmp_path / "elsewhere", "vm-1", token) is None


def test_a_token_for_another_ca_means_joining_again(tmp_path, ca):
    state = stored(tmp_path, ca)
    token, _ = new_token(create_ca().fingerprint, 0, ttl_seconds=0)
    assert stored_credentials(state, "vm-1", token) is None


def test_credentials_of_another_node_name_are_refused_with_the_way_out(tmp_path, ca):
    state = stored(tmp_path, ca, "vm-1")
    with pytest.raises(JoinError, match=r"certificate of node 'vm-1', not 'vm-2': run the agent with --name vm-1"):
        stored_credentials(state, "vm-2")


def test_a_damaged_certificate_is_refused_with_the_way_out(tmp_path, ca):
    state = stored(tmp_path, ca)
    (state / "tls" / "node.crt").write_bytes(b"garbage")
    with pytest.raises(JoinError, match="not a readable certificate"):
        stored_credentials(state, "vm-1")
