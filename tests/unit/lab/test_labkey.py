import paramiko

from orchestra.lab import labkey


def test_a_lab_key_is_made_once_private_and_readable_by_ssh_clients(tmp_path):
    private, public = labkey.ensure(tmp_path / "lab", comment="lab-x")
    assert private.stat().st_mode & 0o777 == 0o600
    key = paramiko.Ed25519Key.from_private_key_file(str(private))
    assert public.read_text() == f"ssh-ed25519 {key.get_base64()} lab-x\n"
    assert labkey.ensure(tmp_path / "lab") == (private, public)
    assert paramiko.Ed25519Key.from_private_key_file(str(private)).get_base64() == key.get_base64()
