"""Status acceptance: only for replicas bound to the reporting node with the same incarnation."""
from __future__ import annotations

import pytest
from plane_fixtures import hello, workload_json

from orchestra.api import agent_pb2, types_pb2
from orchestra.server.errors import ProtocolError
from orchestra.server.reports import Refused


def status(replica, incarnation, phase="Running", **kw):
    return agent_pb2.ReplicaStatus(replica_id=replica, incarnation=incarnation, phase=phase, **kw)


def report(plane, session, *statuses):
    plane.on_agent_message(session, agent_pb2.AgentMessage(status=agent_pb2.StatusReport(replicas=statuses)))


@pytest.fixture
def bound(plane):
    s1 = plane.open_session(hello("vm-1"))
    plane.apply([workload_json("web")])
    assert plane.store.get_replica("web-0").node == "vm-1"
    return s1


def test_accepted_from_bound_node_with_same_incarnation(plane, bound):
    report(plane, bound, status("web-0", 1, container_id="c1"))
    r = plane.store.get_replica("web-0")
    assert (r.phase, r.container_id) == ("Running", "c1")
    assert plane.store.list_events(obj="web-0")[-1].reason == "Started"


def test_stale_incarnation_dropped(plane, bound):
    report(plane, bound, status("web-0", 0, phase="Failed", reason="old container"))
    assert plane.store.get_replica("web-0").phase == "Scheduled"


def test_other_node_dropped(plane, bound):
    other = plane.open_session(hello("vm-2"))
    report(plane, other, status("web-0", 1, phase="Failed"))
    report(plane, other, status("ghost-0", 1))
    assert plane.store.get_replica("web-0").phase == "Scheduled"
    assert plane.store.get_replica("ghost-0") is None


def test_claim_on_another_nodes_replica_is_refused_and_recorded(plane, bound):
    other = plane.open_session(hello("vm-2"))
    report(plane, other, status("web-0", 1, phase="Failed"))        # vm-1's current binding
    report(plane, other, status("web-0", 7))                        # a binding never made
    assert plane.store.get_replica("web-0").phase == "Scheduled"
    foreign = [e for e in plane.store.list_events(obj="vm-2") if e.reason == "ForeignReport"]
    assert len(foreign) == 2 and "bound to node vm-1" in foreign[0].message


def test_stale_report_is_not_called_foreign(plane, bound):
    report(plane, bound, status("web-0", 0, phase="Failed"))
    assert not [e for e in plane.store.list_events() if e.reason == "ForeignReport"]


def test_plane_only_phase_dropped(plane, bound):
    report(plane, bound, status("web-0", 1, phase="Pending"))
    assert plane.store.get_replica("web-0").phase == "Scheduled"


def test_failures_counted_for_the_scheduler(plane, bound, clock):
    report(plane, bound, status("web-0", 1, phase="BackOff", restarts=1, next_restart_ms=clock() + 1000))
    r = plane.store.get_replica("web-0")
    assert (r.phase, r.restarts) == ("BackOff", 1)
    assert plane.failures.by_node(clock()) == {"vm-1": {"web": 1}}


def test_restart_count_survives_an_agent_restart(plane, bound):
    report(plane, bound, status("web-0", 1, restarts=3))
    report(plane, bound, status("web-0", 1, restarts=0))     # the agent restarted and counts afresh
    assert plane.store.get_replica("web-0").restarts == 3


def test_replaced_session_no_longer_counts(plane, bound):
    newer = plane.open_session(hello("vm-1"))
    assert bound.ended.is_set()
    report(plane, bound, status("web-0", 1))
    assert plane.store.get_replica("web-0").phase == "Scheduled"
    report(plane, newer, status("web-0", 1))
    assert plane.store.get_replica("web-0").phase == "Running"


def test_usage_stored_on_node_and_replica(plane, bound):
    plane.on_agent_message(bound, agent_pb2.AgentMessage(usage=agent_pb2.UsageReport(
        node=types_pb2.NodeUsage(cpu_percent=12.5, memory_used_bytes=100, memory_total_bytes=1000),
        replicas=[agent_pb2.ReplicaUsage(replica_id="web-0",
                                          usage=types_pb2.ContainerUsage(cpu_percent=3.0, memory_bytes=7))])))
    assert plane.store.get_node("vm-1").usage["cpu_percent"] == 12.5
    assert plane.list_replicas().replicas[0].usage.memory_bytes == 7
    assert plane.list_nodes().nodes[0].usage.memory_used_bytes == 100


def test_out_of_order_messages_are_protocol_errors(plane, bound):
    with pytest.raises(ProtocolError, match="first message"):
        plane.on_agent_message(bound, agent_pb2.AgentMessage(hello=hello("vm-1")))
    with pytest.raises(ProtocolError, match="empty AgentMessage"):
        plane.on_agent_message(bound, agent_pb2.AgentMessage())


def test_bad_node_name_refused(plane):
    with pytest.raises(Refused, match="invalid node name"):
        plane.open_session(hello("bad name!"))
    assert plane.store.list_nodes() == []


def test_cordon_survives_reregistration(plane, bound):
    plane.set_schedulable("vm-1", False)
    plane.open_session(hello("vm-1"))
    assert plane.store.get_node("vm-1").schedulable is False
