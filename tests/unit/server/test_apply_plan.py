"""apply_plan: the plan is a pure function of what it reads, and commit writes exactly it."""
from __future__ import annotations

import copy

from plane_fixtures import workload_json

from orchestra.server import apply_plan
from orchestra.server.catalog import WorkloadCatalog
from orchestra.spec import codec


def w(**kw):
    return codec.from_json(workload_json("web", **kw), "<test>")


def test_plan_reads_and_writes_nothing_and_commit_writes_the_plan(plane, clock):
    plane.service.apply([workload_json("web", replicas=2)])
    current = apply_plan.read_current(plane.store, WorkloadCatalog(), ["web"])
    frozen = copy.deepcopy(current)
    events_before = plane.store.last_event_id()
    p1 = apply_plan.plan(current, [w(replicas=3, memory="32Mi")], clock())
    p2 = apply_plan.plan(current, [w(replicas=3, memory="32Mi")], clock())
    assert p1 == p2 and current == frozen and plane.store.last_event_id() == events_before
    [c] = p1.changes
    assert (c.action, c.record.generation, c.record.revision, c.revision.number) == ("configured", 2, 2, 2)
    # 3 desired + 1 surge = 4 records: two new ones now, the old two replaced as the new ones get ready.
    assert [r.id for r in c.create] == ["web-2", "web-3"] and c.replaced == ["web-0", "web-1"]
    with plane.store.transaction():
        apply_plan.commit(plane.store, plane.events, p1, clock())
    stored = plane.store.list_replicas(workload="web")
    assert [(r.id, r.revision) for r in stored] == [("web-0", 1), ("web-1", 1), ("web-2", 2), ("web-3", 2)]
    assert plane.store.get_workload("web").revision == 2


def test_unchanged_plans_nothing(plane, clock):
    plane.service.apply([workload_json("web")])
    current = apply_plan.read_current(plane.store, WorkloadCatalog(), ["web"])
    [c] = apply_plan.plan(current, [w()], clock()).changes
    assert (c.action, c.create, c.retire, c.revision) == ("unchanged", [], [], None)
