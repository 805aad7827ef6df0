"""orchestra.server.lifecycle: each transition of a replica record, and the event it leaves."""
from __future__ import annotations

import pytest

from orchestra.api import agent_pb2
from orchestra.phase import Phase
from orchestra.server import lifecycle
from orchestra.server.events import EventLog
from orchestra.server.failures import FailureCounter
from orchestra.spec.model import Resources
from orchestra.store import SqliteStore, WorkloadRecord


@pytest.fixture
def world():
    store = SqliteStore(":memory:")
    events = EventLog(store, lambda: 1000)
    w = WorkloadRecord(name="web", spec_json="{}", revision=3)
    store.put_workload(w)
    yield store, events, w
    store.close()


def reasons(store, obj):
    return [e.reason for e in store.list_events(obj=obj)]


def test_create_is_pending_at_the_current_revision(world):
    store, events, w = world
    r = lifecycle.create(store, w, 4, Resources(100, 1 << 20), 5)
    assert (r.id, r.phase, r.revision, r.incarnation, r.node) == ("web-4", Phase.PENDING, 3, 0, "")
    assert store.get_replica("web-4") == r


def test_bind_then_lose_then_bind_again_counts_incarnations(world):
    store, events, w = world
    r = lifecycle.create(store, w, 0, Resources(), 5)
    lifecycle.bind(store, events, r, "vm-1", "placed on vm-1", {"node": "vm-1"}, 6)
    assert (r.node, r.phase, r.incarnation, r.placement) == ("vm-1", Phase.SCHEDULED, 1, {"node": "vm-1"})
    lifecycle.lose(store, events, r, "vm-1", 7)
    r = store.get_replica("web-0")
    assert (r.node, r.phase, r.incarnation) == ("", Phase.PENDING, 1) and "lost" in r.reason
    lifecycle.bind(store, events, r, "vm-2", "", {}, 8)
    assert store.get_replica("web-0").incarnation == 2
    assert reasons(store, "web-0") == ["Scheduled", "Lost", "Scheduled"]


def test_retire_of_an_unplaced_replica_removes_it_at_once(world):
    store, events, w = world
    r = lifecycle.create(store, w, 0, Resources(), 5)
    lifecycle.retire(store, events, r, "scale-down to 0", 6)
    assert store.get_replica("web-0") is None and reasons(store, "web-0") == ["Removed"]


def test_retire_of_a_placed_replica_waits_for_its_container(world):
    store, events, w = world
    r = lifecycle.create(store, w, 0, Resources(), 5)
    lifecycle.bind(store, events, r, "vm-1", "", {}, 6)
    r.ready, r.ready_since_ms = True, 6
    lifecycle.retire(store, events, r, "scale-down to 0", 7)
    r = store.get_replica("web-0")
    assert (r.phase, r.ready, r.stop_revision) == (Phase.TERMINATING, False, 0)
    lifecycle.stopping_from(store, r, 12)
    assert lifecycle.confirm_gone(store, events, "vm-1", 11, set(), [r]) == []          # too early
    assert lifecycle.confirm_gone(store, events, "vm-1", 12, {"web-0"}, [r]) == []      # still listed
    assert lifecycle.confirm_gone(store, events, "vm-1", 12, set(), [r]) == ["web-0"]
    assert store.get_replica("web-0") is None
    assert store.get_workload("web").last_incarnations == {"0": 1}
    assert reasons(store, "web-0") == ["Scheduled", "Stopping", "Removed"]


def test_a_report_does_not_bring_a_terminating_replica_back(world):
    store, events, w = world
    r = lifecycle.create(store, w, 0, Resources(), 5)
    lifecycle.bind(store, events, r, "vm-1", "", {}, 6)
    lifecycle.retire(store, events, r, "gone", 7)
    st = agent_pb2.ReplicaStatus(replica_id="web-0", incarnation=1, phase="Running", ready=True, container_id="c")
    assert lifecycle.accepts(r, "vm-1", st)
    lifecycle.accept_report(store, events, FailureCounter(), r, "vm-1", st, 8)
    r = store.get_replica("web-0")
    assert (r.phase, r.ready, r.container_id) == (Phase.TERMINATING, False, "c")


def test_availability_needs_min_ready_time(world):
    store, events, w = world
    r = lifecycle.create(store, w, 0, Resources(), 5)
    r.ready, r.ready_since_ms = True, 100
    assert lifecycle.is_available(r, 105, 5) and not lifecycle.is_available(r, 104, 5)


def test_free_indices_fill_the_gaps_first():
    assert lifecycle.free_indices({0, 2, 3}, 3) == [1, 4, 5]
