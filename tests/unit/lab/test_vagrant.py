import pytest

from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import Lab, parse_ssh_config

SSH_CONFIG = """\
Host lab-1
  HostName 127.0.0.1
  User vagrant
  Port 2221
  IdentityFile /tmp/l/.vagrant/machines/lab-1/libvirt/private_key
  IdentitiesOnly yes

Host lab-2
  HostName 127.0.0.1
  User vagrant
  Port 2222
  IdentityFile "/tmp/l/.vagrant/machines/lab-2/libvirt/private_key"
  IdentityFile /root/.vagrant.d/insecure_private_key
"""


def test_parse_ssh_config_keeps_the_first_identity():
    conf = parse_ssh_config(SSH_CONFIG)
    assert conf["lab-1"]["port"] == "2221"
    assert conf["lab-2"]["identityfile"].strip('"').endswith("lab-2/libvirt/private_key")


@pytest.mark.parametrize("name", ["Lab", "a b", "-x", "x" * 40, ""])
def test_bad_lab_names(name):
    with pytest.raises(LabError, match="bad lab name"):
        Lab(name)


def test_settings_file_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_NODES", "7")        # a stray setting must not leak into vagrant
    lab = Lab("t", tmp_path / "t")
    lab.write_settings({"nodes": 2, "net": "usernet"})
    env = lab.env()
    assert "ORCHESTRA_NODES" not in env
    assert env["ORCHESTRA_LAB_CONFIG"] == str(tmp_path / "t" / "lab.yml")
    assert env["VAGRANT_DOTFILE_PATH"] == str(tmp_path / "t" / ".vagrant")
    assert env["VAGRANT_CWD"].endswith("/vagrant")
    with pytest.raises(LabError, match="unknown lab settings: bogus"):
        lab.write_settings({"bogus": 1})


def test_nodes_before_up_say_what_to_do(tmp_path):
    with pytest.raises(LabError, match="cluster up"):
        Lab("t", tmp_path / "t").nodes()


def test_usernet_machines_without_asking_vagrant(tmp_path):
    import json
    lab = Lab("t", tmp_path / "t")
    dot = tmp_path / "t" / ".vagrant"
    (dot / "machines" / "t-1" / "libvirt").mkdir(parents=True)
    (dot / "machines" / "t-1" / "libvirt" / "private_key").write_text("k")
    (dot / "machines" / "t-1" / "libvirt" / "id").write_text("uuid")
    (dot / "orchestra-lab.json").write_text(json.dumps({
        "settings": {"net": "usernet"},
        "nodes": [{"name": "t-1", "labels": "zone=a", "ssh_port": 2301, "server": "10.0.2.100:7"},
                  {"name": "t-2", "labels": "zone=b", "ssh_port": 2302, "server": "10.0.2.100:7"}]}))
    (m,) = lab.machines()          # t-2 was never brought up
    assert (m.name, str(m.ssh), m.server) == ("t-1", "vagrant@127.0.0.1:2301", "10.0.2.100:7")
    assert m.key.endswith("t-1/libvirt/private_key")


def test_usernet_machines_use_the_labs_own_key(tmp_path):
    import json
    lab = Lab("t", tmp_path / "t")
    dot = tmp_path / "t" / ".vagrant"
    for name in ("t-1", "t-2"):
        (dot / "machines" / name / "libvirt").mkdir(parents=True)
        (dot / "machines" / name / "libvirt" / "id").write_text("uuid")
    key = tmp_path / "t" / "ssh_key"
    key.write_text("k")
    (dot / "orchestra-lab.json").write_text(json.dumps({
        "settings": {"net": "usernet", "ssh_key": str(key)},
        "nodes": [{"name": "t-1", "labels": "zone=a", "ssh_port": 2301, "server": "10.0.2.100:7"},
                  {"name": "t-2", "labels": "zone=b", "ssh_port": 2302, "server": "10.0.2.100:7"}]}))
    assert [(m.name, m.key) for m in lab.machines()] == [("t-1", str(key)), ("t-2", str(key))]
