import paramiko
import pytest

from orchestra.lab.ssh import LabError, Node, SSHTarget, load_key


@pytest.mark.parametrize("text,want", [
    ("vagrant@127.0.0.1:2222", SSHTarget("vagrant", "127.0.0.1", 2222)),
    ("root@node-1", SSHTarget("root", "node-1", 22)),
    ("me@[::1]:2200", SSHTarget("me", "::1", 2200)),
])
def test_parse_target(text, want):
    assert SSHTarget.parse(text) == want


@pytest.mark.parametrize("text", ["127.0.0.1", "@host", "u@", "u@h:abc", "u@h:0", "u@h:70000", "u h@x"])
def test_bad_target_says_the_expected_form(text):
    with pytest.raises(LabError, match="USER@HOST|out of range"):
        SSHTarget.parse(text)


def test_missing_key(tmp_path):
    with pytest.raises(LabError, match="does not exist"):
        load_key(str(tmp_path / "nope"))


def test_not_a_key(tmp_path):
    p = tmp_path / "k"
    p.write_text("hello\n")
    with pytest.raises(LabError, match="not a private key"):
        load_key(str(p))


def test_encrypted_key_is_refused(tmp_path):
    p = tmp_path / "k"
    paramiko.RSAKey.generate(1024).write_private_key_file(str(p), password="secret")
    with pytest.raises(LabError, match="encrypted"):
        load_key(str(p))


def test_connection_refused_is_explained(tmp_path):
    import socket
    p = tmp_path / "k"
    paramiko.RSAKey.generate(1024).write_private_key_file(str(p))
    with socket.socket() as s:          # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LabError, match="connection refused"):
        Node(SSHTarget("u", "127.0.0.1", port), str(p), timeout=5)
