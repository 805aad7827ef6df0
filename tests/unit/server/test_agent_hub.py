"""The agent hub: registration, and status acceptance only for replicas bound to the reporting
node with the same incarnation; a full report shows which Terminating replicas are gone."""
from __future__ import annotations

import pytest
from plane_fixtures import desired_of, hello, report, status, workload_json

from orchestra.api import agent_pb2, types_pb2
from orchestra.server.agent_hub import Refused
from orchestra.server.errors import ProtocolError


@pytest.fixture
def bound(plane):
    s1 = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    assert plane.store.get_replica("web-0").node == "vm-1"
    return s1


def test_accepted_from_bound_node_with_same_incarnation(plane, bound):
    report(plane, bound, status("web-0", 1, container_id="c1"))
    r = plane.store.get_replica("web-0")
    assert (r.phase, r.container_id, r.ready) == ("Running", "c1", True)
    assert plane.store.list_events(obj="web-0")[-1].reason == "Started"


def test_a_report_that_says_what_is_stored_takes_no_transaction(plane, bound):
    report(plane, bound, status("web-0", 1, container_id="c1"))
    opened = []
    transaction = plane.store.transaction

    def counting():
        opened.append(1)
        return transaction()
    plane.store.transaction = counting
    report(plane, bound, status("web-0", 1, container_id="c1"))
    assert opened == []
    report(plane, bound, status("web-0", 1, container_id="c1", restarts=1))     # news: written
    assert opened and plane.store.get_replica("web-0").restarts == 1
    plane.store.transaction = transaction


def test_ready_since_follows_readiness(plane, bound, clock):
    report(plane, bound, status("web-0", 1, ready=False))
    assert plane.store.get_replica("web-0").ready_since_ms == 0
    report(plane, bound, status("web-0", 1))
    since = plane.store.get_replica("web-0").ready_since_ms
    assert since == clock()
    clock.advance(5)
    report(plane, bound, status("web-0", 1, restarts=1))
    assert plane.store.get_replica("web-0").ready_since_ms == since       # still ready: unchanged
    report(plane, bound, status("web-0", 1, ready=False, restarts=1))
    assert plane.store.get_replica("web-0").ready_since_ms == 0


def test_probe_failure_is_an_unhealthy_event_with_what_it_said(plane, bound):
    failing = types_pb2.ProbeResult(probe="liveness", result="Failure", message="GET / answered 503",
                                    consecutive_failures=3, action="GET :8080/")
    report(plane, bound, status("web-0", 1, probes=[failing]))
    [e] = [e for e in plane.store.list_events(obj="web-0") if e.reason == "Unhealthy"]
    assert "liveness probe GET :8080/ failed 3 times: GET / answered 503" in e.message
    report(plane, bound, status("web-0", 1, probes=[failing]))            # still failing: no second event
    assert len([e for e in plane.store.list_events(obj="web-0") if e.reason == "Unhealthy"]) == 1
    assert plane.store.get_replica("web-0").probes[0]["message"] == "GET / answered 503"


def test_stale_incarnation_dropped(plane, bound):
    report(plane, bound, status("web-0", 0, phase="Failed", reason="old container"))
    assert plane.store.get_replica("web-0").phase == "Scheduled"


def test_other_node_dropped(plane, bound):
    other = plane.hub.open_session(hello("vm-2"))
    report(plane, other, status("web-0", 1, phase="Failed"))
    report(plane, other, status("ghost-0", 1))
    assert plane.store.get_replica("web-0").phase == "Scheduled"
    assert plane.store.get_replica("ghost-0") is None


def test_claim_on_another_nodes_replica_is_refused_and_recorded(plane, bound):
    other = plane.hub.open_session(hello("vm-2"))
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
    newer = plane.hub.open_session(hello("vm-1"))
    assert bound.ended.is_set()
    report(plane, bound, status("web-0", 1))
    assert plane.store.get_replica("web-0").phase == "Scheduled"
    report(plane, newer, status("web-0", 1))
    assert plane.store.get_replica("web-0").phase == "Running"


def test_terminating_replica_goes_only_when_a_report_at_its_stop_revision_omits_it(plane, bound):
    report(plane, bound, status("web-0", 1))
    plane.service.delete(["web"])
    r = plane.store.get_replica("web-0")
    assert r.phase == "Terminating" and r.stop_revision > 0
    assert plane.store.get_workload("web").deleting
    stop = r.stop_revision
    assert [c.replica_id for c in desired_of(bound).replicas] == []
    # A report from before the stop still lists it: nothing happens.
    report(plane, bound, status("web-0", 1), revision=stop - 1)
    report(plane, bound, revision=stop - 1)
    assert plane.store.get_replica("web-0") is not None
    # At the stop revision, the agent says it is stopping it: still there.
    report(plane, bound, status("web-0", 1, phase="Terminating"), revision=stop)
    assert plane.store.get_replica("web-0").phase == "Terminating"
    # Gone from a full report at that revision: removed, and the deleted workload with it.
    report(plane, bound, revision=stop)
    assert plane.store.get_replica("web-0") is None
    plane.run_controllers_once()
    assert plane.store.get_workload("web") is None
    reasons = [e.reason for e in plane.store.list_events(obj="web")]
    assert reasons[-2:] == ["Deleting", "Deleted"]


def test_usage_stored_on_node_and_replica(plane, bound):
    plane.hub.on_message(bound, agent_pb2.AgentMessage(usage=agent_pb2.UsageReport(
        node=types_pb2.NodeUsage(cpu_percent=12.5, memory_used_bytes=100, memory_total_bytes=1000),
        replicas=[agent_pb2.ReplicaUsage(replica_id="web-0",
                                          usage=types_pb2.ContainerUsage(cpu_percent=3.0, memory_bytes=7))])))
    assert plane.service.describe_node("vm-1").node.usage.cpu_percent == 12.5
    assert plane.service.list_replicas().replicas[0].usage.memory_bytes == 7
    assert plane.service.list_nodes().nodes[0].usage.memory_used_bytes == 100


def test_out_of_order_messages_are_protocol_errors(plane, bound):
    with pytest.raises(ProtocolError, match="first message"):
        plane.hub.on_message(bound, agent_pb2.AgentMessage(hello=hello("vm-1")))
    with pytest.raises(ProtocolError, match="empty AgentMessage"):
        plane.hub.on_message(bound, agent_pb2.AgentMessage())


def test_bad_node_name_refused(plane):
    with pytest.raises(Refused, match="invalid node name"):
        plane.hub.open_session(hello("bad name!"))
    assert plane.store.list_nodes() == []


def test_cordon_survives_reregistration(plane, bound):
    plane.service.set_schedulable("vm-1", False)
    plane.hub.open_session(hello("vm-1"))
    assert plane.store.get_node("vm-1").schedulable is False


def test_one_owner_of_node_ready(plane):
    plane.hub.open_session(hello("vm-1"))
    assert [e.reason for e in plane.store.list_events(obj="vm-1")] == ["NodeRegistered", "NodeReady"]
