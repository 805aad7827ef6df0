"""Workload controller and Apply: replica records follow the spec; invalid input stores nothing."""
from __future__ import annotations

import json

import pytest
from plane_fixtures import workload_json

from orchestra.server.errors import InvalidArgument


def ids(plane, workload):
    return [r.id for r in plane.store.list_replicas(workload=workload)]


def test_apply_creates_replicas_and_reports_created(plane):
    resp = plane.apply([workload_json("web", replicas=3)])
    (res,) = resp.results
    assert (res.workload, res.action, res.generation) == ("web", "created", 1)
    assert ids(plane, "web") == ["web-0", "web-1", "web-2"]
    # No node yet: every new replica is reported unplaced, with the scheduler's reason.
    assert [p.replica for p in res.placements] == ["web-0", "web-1", "web-2"]
    assert all(p.node == "" and p.explanation for p in res.placements)
    assert all(r.phase == "Pending" for r in plane.store.list_replicas())


def test_scale_down_retires_highest_indices_and_up_adds(plane):
    plane.apply([workload_json("web", replicas=4)])
    res = plane.apply([workload_json("web", replicas=2)]).results[0]
    assert res.action == "configured" and res.generation == 2
    assert list(res.removed_replicas) == ["web-2", "web-3"]
    assert ids(plane, "web") == ["web-0", "web-1"]
    plane.apply([workload_json("web", replicas=3)])
    assert ids(plane, "web") == ["web-0", "web-1", "web-2"]


def test_unchanged_apply_keeps_generation(plane):
    plane.apply([workload_json("web", replicas=2)])
    res = plane.apply([workload_json("web", replicas=2)]).results[0]
    assert (res.action, res.generation) == ("unchanged", 1)


def test_scaling_does_not_recreate_running_replicas(plane):
    # Only a change of what containers run (template, tenant) re-creates them.
    plane.apply([workload_json("web", replicas=2)])
    res = plane.apply([workload_json("web", replicas=3)]).results[0]
    assert res.generation == 2
    gens = {r.id: r.generation for r in plane.store.list_replicas(workload="web")}
    assert gens == {"web-0": 1, "web-1": 1, "web-2": 2}
    plane.apply([workload_json("web", replicas=3, memory="32Mi")])
    assert {r.generation for r in plane.store.list_replicas(workload="web")} == {3}


def test_new_generation_bumps_replica_generation(plane):
    plane.apply([workload_json("web", replicas=2)])
    plane.apply([workload_json("web", replicas=2, memory="128Mi")])
    for r in plane.store.list_replicas(workload="web"):
        assert r.generation == 2 and r.requests.memory_bytes == 128 << 20


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "x"},
                 "spec": {"replicas": -1, "template": {"image": "i"}}}), "replicas"),
    (json.dumps({"kind": "Nope"}), "request document 2"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_invalid_document_stores_nothing(plane, bad, message):
    with pytest.raises(InvalidArgument, match=message):
        plane.apply([workload_json("good", replicas=2), bad])
    assert plane.store.list_workloads() == [] and plane.store.list_replicas() == []
    assert plane.store.list_events() == []


def test_duplicate_names_in_one_request_refused(plane):
    with pytest.raises(InvalidArgument, match="both define workload 'web'"):
        plane.apply([workload_json("web"), workload_json("web", replicas=2)])
    assert plane.store.list_workloads() == []


def test_dry_run_writes_nothing(plane):
    from plane_fixtures import hello
    plane.open_session(hello("vm-1"))
    before = plane.store.list_events()
    resp = plane.apply([workload_json("web", replicas=2)], dry_run=True)
    assert resp.dry_run and resp.results[0].action == "created"
    assert [(p.replica, p.node) for p in resp.results[0].placements] == [("web-0", "vm-1"), ("web-1", "vm-1")]
    assert plane.store.list_workloads() == [] and plane.store.list_replicas() == []
    assert plane.store.list_events() == before


def test_delete(plane):
    plane.apply([workload_json("web", replicas=2)])
    resp = plane.delete(["web", "nope"])
    assert list(resp.deleted) == ["web"] and list(resp.not_found) == ["nope"]
    assert plane.store.list_replicas() == []


def test_reconcile_repairs_missing_replicas(plane, clock):
    # As if a crash (or a hand edit) left the records short: the level-triggered pass fixes it.
    plane.apply([workload_json("web", replicas=3)])
    plane.store.delete_replica("web-1")
    clock.advance(60)
    plane.run_controllers_once()
    assert ids(plane, "web") == ["web-0", "web-1", "web-2"]
