"""The user service: apply (with its revisions and the first rollout step), dry runs, deletes,
undo and pause; invalid input stores nothing."""
from __future__ import annotations

import json

import pytest
from plane_fixtures import Agents, hello, workload_json

from orchestra.server.errors import FailedPrecondition, InvalidArgument, NotFound


def ids(plane, workload):
    return [r.id for r in plane.store.list_replicas(workload=workload)]


def test_apply_creates_replicas_and_reports_created(plane):
    resp = plane.service.apply([workload_json("web", replicas=3)])
    (res,) = resp.results
    assert (res.workload, res.action, res.generation, res.revision, res.new_revision) == ("web", "created", 1, 1, True)
    assert ids(plane, "web") == ["web-0", "web-1", "web-2"]
    # No node yet: every new replica is reported unplaced, with the scheduler's reason in full.
    assert [p.replica for p in res.placements] == ["web-0", "web-1", "web-2"]
    assert all(p.node == "" and p.explanation.startswith("0/0 nodes fit") for p in res.placements)
    assert all(r.phase == "Pending" for r in plane.store.list_replicas())


def test_placements_carry_the_structured_explanation(plane):
    plane.hub.open_session(hello("vm-1"))
    plane.hub.open_session(hello("vm-2", memory=32 << 20))
    [p] = plane.service.apply([workload_json("web")]).results[0].placements
    assert p.node == "vm-1" and p.detail.node == "vm-1" and p.detail.nodes_total == 2
    assert p.detail.scores[0].node == "vm-1" and p.detail.summary == p.explanation
    stored = plane.service.list_replicas().replicas[0].placement
    assert stored.node == "vm-1" and stored.nodes_feasible == 1


def test_scale_down_retires_highest_indices_and_up_adds(plane):
    plane.service.apply([workload_json("web", replicas=4)])
    res = plane.service.apply([workload_json("web", replicas=2)]).results[0]
    assert (res.action, res.generation, res.revision, res.new_revision) == ("configured", 2, 1, False)
    assert list(res.removed_replicas) == ["web-3", "web-2"]
    assert ids(plane, "web") == ["web-0", "web-1"]       # never placed: gone at once
    plane.service.apply([workload_json("web", replicas=3)])
    assert ids(plane, "web") == ["web-0", "web-1", "web-2"]


def test_unchanged_apply_keeps_generation(plane):
    plane.service.apply([workload_json("web", replicas=2)])
    res = plane.service.apply([workload_json("web", replicas=2)]).results[0]
    assert (res.action, res.generation) == ("unchanged", 1)


def test_only_a_template_change_makes_a_revision(plane):
    plane.service.apply([workload_json("web", replicas=2)])
    res = plane.service.apply([workload_json("web", replicas=3, priority=5)]).results[0]
    assert (res.generation, res.revision, res.new_revision) == (3 - 1, 1, False)
    assert {r.revision for r in plane.store.list_replicas(workload="web")} == {1}
    res = plane.service.apply([workload_json("web", replicas=3, memory="32Mi")]).results[0]
    assert (res.revision, res.new_revision) == (2, True)
    [_, second] = plane.service.list_revisions("web").revisions
    assert (second.number, second.origin) == (2, "apply")
    assert second.change == 'resources.memory: 67108864 -> 33554432'


def test_rolling_update_is_announced_and_replaces_old_replicas(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2)])
    agents.settle(clock, rounds=3)
    res = plane.service.apply([workload_json("web", replicas=2, memory="32Mi")]).results[0]
    assert list(res.replaced_replicas) == ["web-0", "web-1"]
    assert res.rollout == "rolling update to revision 2: maxSurge 1, maxUnavailable 0"
    assert [p.replica for p in res.placements] == ["web-2"]       # the surge replica, first
    agents.settle(clock, rounds=12)
    replicas = plane.store.list_replicas(workload="web")
    assert {r.revision for r in replicas} == {2} and len(replicas) == 2
    assert plane.service.get_rollout("web").state == "Complete"


@pytest.mark.parametrize("bad, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "x"},
                 "spec": {"replicas": -1, "template": {"image": "i"}}}), "replicas"),
    (json.dumps({"kind": "Nope"}), "request document 2"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
])
def test_invalid_document_stores_nothing(plane, bad, message):
    with pytest.raises(InvalidArgument, match=message):
        plane.service.apply([workload_json("good", replicas=2), bad])
    assert plane.store.list_workloads() == [] and plane.store.list_replicas() == []
    assert plane.store.list_events() == []


def test_duplicate_names_in_one_request_refused(plane):
    with pytest.raises(InvalidArgument, match="both define workload 'web'"):
        plane.service.apply([workload_json("web"), workload_json("web", replicas=2)])
    assert plane.store.list_workloads() == []


def test_dry_run_writes_nothing_and_says_what_apply_would(plane):
    plane.hub.open_session(hello("vm-1"))
    before = plane.store.list_events()
    resp = plane.service.apply([workload_json("web", replicas=2)], dry_run=True)
    assert resp.dry_run and resp.results[0].action == "created"
    assert [(p.replica, p.node) for p in resp.results[0].placements] == [("web-0", "vm-1"), ("web-1", "vm-1")]
    assert resp.results[0].placements[0].detail.scores[0].node == "vm-1"
    assert plane.store.list_workloads() == [] and plane.store.list_replicas() == []
    assert plane.store.list_events() == before
    real = plane.service.apply([workload_json("web", replicas=2)])
    assert [(p.replica, p.node) for p in real.results[0].placements] == \
        [(p.replica, p.node) for p in resp.results[0].placements]


def test_dry_run_of_a_template_change_names_the_replicas_it_would_replace(plane):
    plane.service.apply([workload_json("web", replicas=2)])
    res = plane.service.apply([workload_json("web", replicas=2, cpu="200m")], dry_run=True).results[0]
    assert (res.action, res.revision, list(res.replaced_replicas)) == ("configured", 2, ["web-0", "web-1"])
    assert plane.store.get_workload("web").revision == 1


def test_delete_of_unplaced_replicas_is_immediate(plane):
    plane.service.apply([workload_json("web", replicas=2)])
    resp = plane.service.delete(["web", "nope"])
    assert list(resp.deleted) == ["web"] and list(resp.not_found) == ["nope"]
    assert plane.store.list_replicas() == [] and plane.store.get_workload("web") is None


def test_apply_of_a_workload_being_deleted_is_refused(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web")])
    agents.settle(clock, rounds=2)
    plane.service.delete(["web"])
    with pytest.raises(FailedPrecondition, match="being deleted"):
        plane.service.apply([workload_json("web")])
    agents.settle(clock, rounds=3)
    assert plane.store.get_workload("web") is None
    plane.service.apply([workload_json("web")])


def test_undo_applies_an_older_revision_as_a_new_one(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", memory="64Mi")])
    plane.service.apply([workload_json("web", memory="32Mi")])
    agents.settle(clock, rounds=8)
    res = plane.service.undo_rollout("web", 0)
    assert (res.revision, res.new_revision) == (3, True)
    revs = plane.service.list_revisions("web").revisions
    assert (revs[-1].number, revs[-1].origin) == (3, "undo to 1")
    agents.settle(clock, rounds=8)
    assert {r.requests.memory_bytes for r in plane.store.list_replicas()} == {64 << 20}
    with pytest.raises(NotFound, match="no revision 9"):
        plane.service.undo_rollout("web", 9)
    with pytest.raises(FailedPrecondition, match="already the current revision"):
        plane.service.undo_rollout("web", 3)


def test_pause_holds_the_rollout_and_resume_lets_it_go_on(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2)])
    agents.settle(clock, rounds=3)
    plane.service.pause_rollout("web", True)
    plane.service.apply([workload_json("web", replicas=2, memory="32Mi")])
    agents.settle(clock, rounds=5)
    st = plane.service.get_rollout("web")
    assert st.state == "Paused" and st.paused and (st.updated, st.old) == (0, 2)
    plane.service.pause_rollout("web", False)
    agents.settle(clock, rounds=10)
    assert plane.service.get_rollout("web").state == "Complete"
    reasons = [e.reason for e in plane.store.list_events(obj="web")]
    assert "RolloutPaused" in reasons and "RolloutResumed" in reasons
