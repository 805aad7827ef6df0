import pytest

from orchestra.lab.bootstrap import BootstrapSpec, parse_labels, unit_text
from orchestra.lab.ssh import LabError, SSHTarget


def test_labels():
    assert parse_labels("zone=a, rack=r1,") == {"zone": "a", "rack": "r1"}
    assert parse_labels("") == {}


@pytest.mark.parametrize("bad", ["zone", "=a", "zone=a,rack"])
def test_bad_labels(bad):
    with pytest.raises(LabError, match="key=value"):
        parse_labels(bad)


def test_unit_runs_the_agent_from_the_venv_with_its_identity():
    spec = BootstrapSpec(SSHTarget("vagrant", "127.0.0.1", 2222), "/k", "10.0.2.100:7443", "vm-1",
                         labels="zone=a", token="secret")
    text = unit_text(spec)
    assert "ExecStart=/opt/orchestra/venv/bin/orchestra-agent --server 10.0.2.100:7443 --name vm-1" in text
    assert "--labels zone=a" in text and "--state-dir /var/lib/orchestra/agent" in text
    assert "Restart=always" in text
    # The token lives in a root-only environment file, never on the command line.
    assert "secret" not in text and "EnvironmentFile=-/etc/orchestra/agent.env" in text
