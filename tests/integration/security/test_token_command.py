"""`orchestra token create|list|revoke` and `orchestra certificate revoke` as a user runs them:
the real CLI process against the real plane process."""
from __future__ import annotations

import os
import subprocess
import sys

from orchestra.security.tokens import parse_token


def orchestra(*args, config=None, home=None):
    env = {k: v for k, v in os.environ.items() if k not in ("ORCHESTRA_CONFIG", "ORCHESTRA_SERVER")}
    if config:
        env["ORCHESTRA_CONFIG"] = str(config)
    if home:
        env["HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "orchestra.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_create_list_revoke(plane):
    conf = os.path.join(plane.data_dir, "admin.conf")
    made = orchestra("token", "create", "--ttl", "2h", "--labels", "zone=a,tier=web", config=conf)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    parsed = parse_token(token)                      # the one line on stdout is the whole token
    listed = orchestra("token", "list", config=conf)
    assert listed.returncode == 0, listed.stderr
    row = [ln for ln in listed.stdout.splitlines() if ln.startswith(parsed.token_id)]
    assert row and "valid" in row[0] and "tier=web,zone=a" in row[0]
    assert parsed.secret not in listed.stdout          # secrets are never shown again
    revoked = orchestra("token", "revoke", parsed.token_id, config=conf)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    listed = orchestra("token", "list", config=conf)
    assert [ln for ln in listed.stdout.splitlines() if ln.startswith(parsed.token_id)][0].split()[1] == "revoked"


def test_bad_input_is_precise(plane):
    conf = os.path.join(plane.data_dir, "admin.conf")
    res = orchestra("token", "create", "--ttl", "soon", config=conf)
    assert res.returncode != 0 and "invalid duration 'soon'" in res.stderr
    res = orchestra("token", "create", "--labels", "zone", config=conf)
    assert res.returncode != 0 and "invalid label 'zone'" in res.stderr
    res = orchestra("token", "revoke", "zzzzzz", config=conf)
    assert res.returncode != 0 and "not found" in res.stderr
    res = orchestra("certificate", "revoke", "xyz", config=conf)
    assert res.returncode != 0 and "hexadecimal" in res.stderr


def test_cli_without_credentials_is_refused_clearly(plane, tmp_path):
    res = orchestra("--server", plane.address, "token", "list", home=tmp_path)
    assert res.returncode != 0
    assert "client config" in res.stderr and "admin.conf" in res.stderr, res.stderr
    res = orchestra("--server", plane.address, "get", "nodes", home=tmp_path)
    assert res.returncode != 0 and "TLS" in res.stderr, res.stderr


def test_cli_with_config_of_another_cluster_is_refused(plane, plane_factory, tmp_path):
    other = plane_factory(data_dir=str(tmp_path / "other"))
    conf = os.path.join(other.data_dir, "admin.conf")
    res = orchestra("--server", plane.address, "token", "list", config=conf)
    assert res.returncode != 0 and "handshake" in res.stderr, res.stderr


def test_second_admin_and_revoking_the_first(plane, tmp_path):
    from orchestra.security.ca import load_cert
    from orchestra.security.client_config import load_client_config
    from orchestra.security.identity import serial_hex
    alice = tmp_path / "alice.conf"
    made = orchestra("certificate", "admin", "--data-dir", plane.data_dir, "--name", "alice",
                     "--server", plane.address, "--out", str(alice))
    assert made.returncode == 0 and "for admin 'alice'" in made.stdout, made.stderr
    assert orchestra("token", "list", config=alice).returncode == 0
    first = os.path.join(plane.data_dir, "admin.conf")
    serial = serial_hex(load_cert(load_client_config(first, {}).tls.cert_pem).serial_number)
    assert orchestra("certificate", "revoke", serial, "--reason", "rotated", config=alice).returncode == 0
    res = orchestra("token", "list", config=first)
    assert res.returncode != 0 and "was revoked" in res.stderr, res.stderr
    assert orchestra("token", "list", config=alice).returncode == 0
    res = orchestra("certificate", "admin", "--data-dir", str(tmp_path / "nope"), "--name", "bob",
                    "--server", plane.address, "--out", str(tmp_path / "bob.conf"))
    assert res.returncode != 0 and "cannot read the CA" in res.stderr
