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


def facts(**kw):
    base = {"sudo": "ok", "docker": "ok", "python": "3.11", "venv": "ok"}
    base.update(kw)
    return {k: v for k, v in base.items() if v is not None}


def test_guest_facts_are_read_from_one_command():
    from orchestra.lab.bootstrap import guest_facts
    assert guest_facts("sudo=ok\ndocker=ok\npython=3.11\nvenv=ok\n") == facts()


@pytest.mark.parametrize("kw,message", [
    ({"sudo": None}, "cannot sudo without a password"),
    ({"python": None, "venv": None}, "python3 is not installed"),
    ({"python": "3.12"}, "the guest has Python 3.12"),
    ({"venv": None}, "python3-venv is missing"),
    ({"docker": None}, "Docker is not installed"),
])
def test_guests_the_wheelhouse_cannot_serve_are_refused(kw, message):
    from orchestra.lab.bootstrap import check_facts
    with pytest.raises(LabError, match=message):
        check_facts(SSHTarget("vagrant", "127.0.0.1", 2222), facts(**kw))


def test_the_installer_wheel_is_found_among_the_dependencies():
    from orchestra.lab.bootstrap import installer_wheel
    assert installer_wheel(["/w/grpcio-1.whl", "/w/installer-1.1.0-py3-none-any.whl"]).endswith("installer-1.1.0-py3-none-any.whl")
    with pytest.raises(LabError, match="no wheel of `installer`"):
        installer_wheel(["/w/grpcio-1.whl"])


def test_the_layers_distributions_are_listed_by_the_facts_command():
    from orchestra.lab.bootstrap import GUEST_FACTS, guest_facts, layer_dists
    assert "/opt/orchestra/layer/lib/python3.11/site-packages/*.dist-info" in GUEST_FACTS
    out = "sudo=ok\nlayer=grpcio-1.85.3.dist-info\nlayer=PyYAML-6.0.2.dist-info\npython=3.11\n"
    assert layer_dists(out) == {"grpcio-1.85.3.dist-info", "PyYAML-6.0.2.dist-info"}
    assert guest_facts(out) == {"sudo": "ok", "python": "3.11"}


def test_only_the_very_same_distributions_are_seeded_from_the_layer():
    from orchestra.lab.bootstrap import seedable
    deps = ["/w/grpcio-1.85.3-cp311-cp311-manylinux_2_17_x86_64.whl", "/w/PyYAML-6.0.2-cp311-cp311-linux_x86_64.whl",
            "/w/charset_normalizer-3.4.0-py3-none-any.whl", "/w/docker-7.1.0-py3-none-any.whl"]
    layer = {"grpcio-1.85.3.dist-info", "pyyaml-6.0.2.dist-info", "charset-normalizer-3.4.0.dist-info",
             "docker-7.0.0.dist-info"}
    assert seedable(deps, layer) == {deps[0]: "grpcio-1.85.3.dist-info", deps[1]: "pyyaml-6.0.2.dist-info",
                                     deps[2]: "charset-normalizer-3.4.0.dist-info"}
    assert seedable(deps, set()) == {}
