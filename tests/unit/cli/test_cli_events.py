"""Which events `orchestra events --for KIND/NAME` keeps."""
from orchestra.api import types_pb2 as t
from orchestra.cli.events import About


def ev(kind, obj):
    return t.Event(kind=kind, object=obj)


def test_a_workload_keeps_its_own_and_its_replicas_events():
    about = About("Workload", "web")
    assert about.server_object == ""                  # its replicas have other names
    kept = [e.object for e in [ev("Workload", "web"), ev("Replica", "web-0"), ev("Replica", "web-12"),
                               ev("Replica", "web-1-0"), ev("Replica", "webby-0"), ev("Node", "web"),
                               ev("Workload", "web-1")] if about.keeps(e)]
    assert kept == ["web", "web-0", "web-12"]


def test_node_and_replica_keep_that_object_only():
    node = About("Node", "vm-1")
    assert node.server_object == "vm-1"
    assert node.keeps(ev("Node", "vm-1")) and not node.keeps(ev("Replica", "vm-1"))
    rep = About("Replica", "web-0")
    assert rep.keeps(ev("Replica", "web-0")) and not rep.keeps(ev("Workload", "web-0"))
    assert About().keeps(ev("Cluster", "x"))
