"""The plane as a whole: level-triggered, so a new plane over the same store finishes what the old one left."""
from __future__ import annotations

from plane_fixtures import hello, workload_json

from orchestra.server.plane import Plane
from orchestra.store import SqliteStore


def test_restart_resumes_pending_work(tmp_path, clock):
    store = SqliteStore(str(tmp_path / "state.db"))
    first = Plane(store, clock_ms=clock)
    first.service.apply([workload_json("web", replicas=2)])  # no node yet: all Pending
    second = Plane(store, clock_ms=clock)
    second.hub.open_session(hello("vm-1"))
    second.run_controllers_once()
    assert {r.node for r in store.list_replicas()} == {"vm-1"}
    store.close()
