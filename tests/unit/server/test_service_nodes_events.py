"""Removing a node's record (`delete node`) and events recorded by controllers outside the plane
(RecordEvent): refused with a reason while the node is connected or holds replicas; bad events
refused whole."""
from __future__ import annotations

import pytest
from plane_fixtures import hello, workload_json

from orchestra.server.errors import FailedPrecondition, InvalidArgument, NotFound


def test_a_connected_node_is_not_removed_and_a_gone_empty_one_is(plane):
    session = plane.hub.open_session(hello("vm-1"))
    with pytest.raises(FailedPrecondition, match="node vm-1 is connected: stop its agent"):
        plane.service.delete([], [("Node", "vm-1")])
    assert plane.store.get_node("vm-1") is not None
    plane.hub.close_session(session)
    resp = plane.service.delete([], [("Node", "vm-1")])
    assert [(o.kind, o.name) for o in resp.deleted_objects] == [("Node", "vm-1")]
    assert plane.store.get_node("vm-1") is None
    assert [e.reason for e in plane.store.list_events(obj="vm-1")][-1] == "NodeRemoved"
    resp = plane.service.delete([], [("Node", "vm-1")])
    assert [o.name for o in resp.not_found_objects] == ["vm-1"]


def test_a_node_still_holding_replicas_is_not_removed(plane):
    session = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    plane.hub.close_session(session)
    with pytest.raises(FailedPrecondition, match="node vm-1 still holds web-0"):
        plane.service.delete([], [("Node", "vm-1")])
    assert plane.store.get_node("vm-1") is not None


def test_an_event_from_outside_lands_on_its_object(plane):
    plane.service.apply([workload_json("web")])
    e = plane.service.record_event("Replica", "web-0", "Normal", "VMBooting", "pool blue is booting VM blue-1 for it")
    assert e.id and e.reason == "VMBooting"
    [stored] = [x for x in plane.store.list_events(obj="web-0") if x.reason == "VMBooting"]
    assert (stored.kind, stored.type, stored.message) == ("Replica", "Normal", "pool blue is booting VM blue-1 for it")
    plane.service.record_event("Pool", "blue", "Warning", "BootFailed", "VM blue-1 did not join")
    assert [x.reason for x in plane.store.list_events(obj="blue")] == ["BootFailed"]


@pytest.mark.parametrize("args, error", [
    (("Volume", "web-0", "Normal", "X", "m"), "event kind 'Volume'"),
    (("Replica", "web-0", "Info", "X", "m"), "event type 'Info'"),
    (("Replica", "web-0", "Normal", "not camel", "m"), "event reason 'not camel'"),
    (("Replica", "web-0", "Normal", "X", ""), "event message"),
    (("Replica", "web-0", "Normal", "X", "m" * 1025), "event message"),
    (("Pool", "Bad Name", "Normal", "X", "m"), "pool name 'Bad Name'"),
])
def test_bad_events_are_refused_and_nothing_is_kept(plane, args, error):
    plane.service.apply([workload_json("web")])
    before = plane.store.last_event_id()
    with pytest.raises(InvalidArgument, match=error):
        plane.service.record_event(*args)
    assert plane.store.last_event_id() == before


def test_an_event_on_an_unknown_replica_is_refused(plane):
    with pytest.raises(NotFound, match="replica 'web-9' not found"):
        plane.service.record_event("Replica", "web-9", "Normal", "VMBooting", "m")
