import os
import stat

from orchestra.security.ca import certificate_hosts, load_cert
from orchestra.security.plane_pki import client_address, ensure_plane_pki, serving_hosts


def test_first_start_creates_everything_private_and_is_idempotent(tmp_path):
    first = ensure_plane_pki(tmp_path, ["127.0.0.1", "localhost"])
    pki = tmp_path / "pki"
    assert sorted(p.name for p in pki.iterdir()) == ["admin.crt", "admin.key", "ca.crt", "ca.key",
                                                      "server.crt", "server.key"]
    assert stat.S_IMODE(os.stat(pki).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in pki.iterdir())
    again = ensure_plane_pki(tmp_path, ["127.0.0.1", "localhost"])
    assert again.ca.fingerprint == first.ca.fingerprint and again.server_tls == first.server_tls
    assert again.admin_tls == first.admin_tls


def test_serving_certificate_is_reissued_for_new_names_or_a_foreign_key(tmp_path):
    first = ensure_plane_pki(tmp_path, ["127.0.0.1"])
    wider = ensure_plane_pki(tmp_path, ["127.0.0.1", "plane.example", "10.0.2.2"])
    assert wider.server_tls != first.server_tls
    assert {"127.0.0.1", "plane.example", "10.0.2.2"} <= certificate_hosts(
        load_cert(wider.server_tls.cert_chain_pem.split(b"-----END CERTIFICATE-----")[0] + b"-----END CERTIFICATE-----\n"))
    (tmp_path / "pki" / "server.key").write_bytes((tmp_path / "pki" / "admin.key").read_bytes())
    fixed = ensure_plane_pki(tmp_path, ["127.0.0.1"])
    assert fixed.server_tls.key_pem != wider.admin_tls.key_pem


def test_half_a_ca_is_an_error_not_a_new_ca(tmp_path):
    import pytest
    from orchestra.security.ca import CertificateError
    ensure_plane_pki(tmp_path, ["127.0.0.1"])
    (tmp_path / "pki" / "ca.key").unlink()
    with pytest.raises(CertificateError, match="found only one of ca.crt and ca.key"):
        ensure_plane_pki(tmp_path, ["127.0.0.1"])


def test_names_and_client_address():
    assert serving_hosts("127.0.0.1:7070") == ["localhost", "127.0.0.1", "::1"]
    assert "plane.example" in serving_hosts("plane.example:7070", ["10.0.2.2"])
    assert "10.0.2.2" in serving_hosts("0.0.0.0:7070", ["10.0.2.2"])
    assert client_address("0.0.0.0:0", 4242) == "127.0.0.1:4242"
    assert client_address("10.1.2.3:7070", 7070) == "10.1.2.3:7070"


def test_a_revoked_admin_certificate_is_replaced(tmp_path):
    from orchestra.security.identity import serial_hex
    first = ensure_plane_pki(tmp_path, ["127.0.0.1"])
    serial = serial_hex(load_cert(first.admin_tls.cert_pem).serial_number)
    again = ensure_plane_pki(tmp_path, ["127.0.0.1"], lambda s: s == serial)
    assert again.admin_tls.cert_pem != first.admin_tls.cert_pem
    assert ensure_plane_pki(tmp_path, ["127.0.0.1"], lambda s: s == serial).admin_tls == again.admin_tls
