import pytest

from orchestra.lab.cluster import UpOptions, up
from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import Lab


@pytest.fixture
def lab(tmp_path):
    return Lab("t", tmp_path / "t")


def test_node_count_is_checked(lab):
    with pytest.raises(LabError, match="--nodes must be 1..20"):
        up(lab, UpOptions(nodes=0, plane="127.0.0.1:7070"))


def test_plane_address_needs_a_port(lab):
    with pytest.raises(LabError, match="HOST:PORT"):
        up(lab, UpOptions(plane="127.0.0.1"))


def test_usernet_needs_a_loopback_plane(lab, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_ACCEL", "tcg")
    with pytest.raises(LabError, match="through 127.0.0.1 only"):
        up(lab, UpOptions(plane="10.1.2.3:7070", net="usernet"))


def test_unreachable_plane_is_reported_before_any_vm_work(lab, monkeypatch):
    import socket
    monkeypatch.setenv("ORCHESTRA_ACCEL", "tcg")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LabError, match="does not answer"):
        up(lab, UpOptions(plane=f"127.0.0.1:{port}", token="K10x::a.b"))
    assert not lab.exists()


def test_the_local_box_needs_a_join_token_before_any_vm_work(lab, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_ACCEL", "tcg")
    with pytest.raises(LabError, match="needs the join token"):
        up(lab, UpOptions(plane="127.0.0.1:1"))
    assert not lab.exists()


@pytest.mark.parametrize("net,nodes", [("usernet", 3), ("private", 2)])
def test_the_lab_network_links_two_usernet_vms_checked_before_any_vm_work(lab, net, nodes):
    with pytest.raises(LabError, match="--labnet-port links the two VMs of a usernet lab"):
        up(lab, UpOptions(plane="127.0.0.1:1", net=net, nodes=nodes, labnet_port=30000, token="K10x::a.b"))
    assert not lab.exists()
