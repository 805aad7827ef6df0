"""The workload controller: rollouts stepped over a real (in-memory) store, with hand-fed agent
reports; their states, messages, events, deadlines and automatic rollback."""
from __future__ import annotations

from plane_fixtures import Agents, workload_json

UPDATE = {"maxSurge": 1, "maxUnavailable": 0}


def counts(plane, name="web"):
    replicas = plane.store.list_replicas(workload=name)
    live = [r for r in replicas if r.phase != "Terminating"]
    return len(replicas), sum(1 for r in live if r.ready)


def roll(plane, clock, agents, doc, desired, surge, unavailable, rounds=40):
    """Apply `doc` and drive the rollout, checking the budget at every step."""
    plane.service.apply([doc])
    seen = []
    for _ in range(rounds):
        total, ready = counts(plane)
        seen.append((total, ready))
        assert total <= desired + surge, seen
        assert ready >= desired - unavailable, seen
        agents.settle(clock, rounds=1)
        if plane.service.get_rollout("web").state == "Complete":
            return seen
    raise AssertionError(f"rollout did not complete: {plane.service.get_rollout('web')}")


def test_rolling_update_keeps_the_budget_and_completes(plane, clock):
    agents = Agents(plane)
    for n in ("vm-1", "vm-2"):
        agents.join(n)
    plane.service.apply([workload_json("web", replicas=4, update=UPDATE)])
    agents.settle(clock, rounds=3)
    assert plane.store.get_workload("web").stable_revision == 1
    roll(plane, clock, agents, workload_json("web", replicas=4, memory="32Mi", update=UPDATE), 4, 1, 0)
    rec = plane.store.get_workload("web")
    assert (rec.revision, rec.stable_revision, rec.rollout_state) == (2, 2, "Complete")
    assert {r.revision for r in plane.store.list_replicas()} == {2}
    assert "RolloutComplete" in [e.reason for e in plane.store.list_events(obj="web")]


def test_max_unavailable_variant(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    update = {"maxSurge": 0, "maxUnavailable": 1}
    plane.service.apply([workload_json("web", replicas=3, update=update)])
    agents.settle(clock, rounds=3)
    seen = roll(plane, clock, agents, workload_json("web", replicas=3, cpu="200m", update=update), 3, 0, 1)
    assert max(total for total, _ in seen) == 3


def test_min_ready_seconds_holds_the_next_step(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    update = {**UPDATE, "minReadySeconds": 5}
    plane.service.apply([workload_json("web", replicas=1, update=update)])
    agents.settle(clock, rounds=8)
    plane.service.apply([workload_json("web", replicas=1, memory="32Mi", update=update)])
    agents.settle(clock, rounds=2, step_s=1)
    assert len(plane.store.list_replicas()) == 2            # the new one is ready, but not for 5 s yet
    assert "minReadySeconds 5" in plane.service.get_rollout("web").message
    agents.settle(clock, rounds=8)
    assert [r.revision for r in plane.store.list_replicas()] == [2]


def test_a_revision_whose_replicas_never_become_ready_gets_stuck_then_fails(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    update = {**UPDATE, "progressDeadlineSeconds": 60}
    plane.service.apply([workload_json("web", replicas=2, update=update)])
    agents.settle(clock, rounds=3)
    agents.override["web-2"] = {"ready": False, "probes": [{"probe": "readiness", "result": "Failure",
                                                            "message": "answered 503", "consecutive_failures": 3,
                                                            "action": "GET :8080/"}]}
    plane.service.apply([workload_json("web", replicas=2, memory="32Mi", update=update)])
    agents.settle(clock, rounds=35)
    st = plane.service.get_rollout("web")
    assert st.state == "Progressing"
    assert st.message == ("rollout stuck at 1/2 updated: web-2 not ready: readinessProbe GET :8080/ answered 503 "
                          "(3 times)")
    assert "RolloutStuck" in [e.reason for e in plane.store.list_events(obj="web")]
    assert counts(plane) == (3, 2)                         # the old ones stay: no outage
    agents.settle(clock, rounds=30)
    st = plane.service.get_rollout("web")
    assert st.state == "Failed" and "progressDeadlineSeconds" in st.message
    assert "RolloutFailed" in [e.reason for e in plane.store.list_events(obj="web")]


def test_auto_rollback_reverts_a_crashing_revision(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    update = {**UPDATE, "autoRollback": True}
    plane.service.apply([workload_json("web", replicas=2, update=update)])
    agents.settle(clock, rounds=3)
    agents.override["revision", 2] = {"phase": "BackOff", "ready": False, "restarts": 3,
                                      "reason": "exited with code 1"}
    plane.service.apply([workload_json("web", replicas=2, command=("sh", "-c", "exit 1"), update=update)])
    agents.settle(clock, rounds=15)
    rec = plane.store.get_workload("web")
    assert rec.revision == 3 and rec.rollout_state == "Complete"
    [rev] = [r for r in plane.store.list_revisions("web") if r.number == 3]
    assert rev.origin == "automatic rollback to 1"
    assert rev.change.startswith("automatic rollback to revision 1: revision 2 web-2 restarted 3 times")
    assert {r.revision for r in plane.store.list_replicas()} == {3}
    assert '"sleep"' in rec.spec_json                       # the manifest itself is the old one again
    assert "RolledBack" in [e.reason for e in plane.store.list_events(obj="web")]


def test_scale_during_a_rollout(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2, update=UPDATE)])
    agents.settle(clock, rounds=3)
    plane.service.apply([workload_json("web", replicas=2, memory="32Mi", update=UPDATE)])
    agents.settle(clock, rounds=1)
    plane.service.apply([workload_json("web", replicas=4, memory="32Mi", update=UPDATE)])
    agents.settle(clock, rounds=20)
    replicas = plane.store.list_replicas()
    assert len(replicas) == 4 and {r.revision for r in replicas} == {2}


def test_the_controller_repairs_missing_replicas(plane, clock):
    # As if a crash (or a hand edit) left the records short: the level-triggered pass fixes it.
    plane.service.apply([workload_json("web", replicas=3)])
    plane.store.delete_replica("web-1")
    clock.advance(11)
    plane.run_controllers_once()
    assert [r.id for r in plane.store.list_replicas(workload="web")] == ["web-0", "web-1", "web-2"]


def test_a_reused_index_starts_above_the_removed_replica_s_incarnation(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2)])
    agents.settle(clock, rounds=2)
    plane.service.apply([workload_json("web", replicas=1)])
    agents.settle(clock, rounds=2)
    assert [r.id for r in plane.store.list_replicas()] == ["web-0"]
    plane.service.apply([workload_json("web", replicas=2)])
    assert plane.store.get_replica("web-1").incarnation == 2


def test_a_daemon_follows_nodes_and_their_labels(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1", zone="a")
    agents.join("vm-2", zone="b")
    plane.service.apply([workload_json("agent", mode="daemon", replicas=None,
                                       placement={"nodeSelector": {"zone": "a"}})])
    agents.settle(clock, rounds=2)
    assert [(r.pinned_node, r.node) for r in plane.store.list_replicas()] == [("vm-1", "vm-1")]
    agents.join("vm-3", zone="a")
    agents.settle(clock, rounds=3)
    assert sorted(r.node for r in plane.store.list_replicas()) == ["vm-1", "vm-3"]
    plane.service.set_schedulable("vm-3", False)           # a cordon does not move a daemon
    agents.settle(clock, rounds=2)
    assert sorted(r.node for r in plane.store.list_replicas()) == ["vm-1", "vm-3"]
    del agents.sessions["vm-3"]                             # vm-3 goes silent: NotReady
    agents.settle(clock, rounds=14)
    assert [r.node for r in plane.store.list_replicas() if r.phase != "Terminating"] == ["vm-1"]
    assert plane.service.list_workloads().workloads[0].desired == 1


def test_a_job_runs_to_its_completions(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("batch", mode="job", replicas=None, completions=3, parallelism=2)])
    assert len(plane.store.list_replicas()) == 2
    agents.override["batch-0"] = {"phase": "Exited", "exit_code": 0, "ready": False}
    agents.settle(clock, rounds=2)
    assert plane.store.get_replica("batch-0").phase == "Succeeded"
    assert len([r for r in plane.store.list_replicas() if r.phase != "Succeeded"]) == 2
    for rid in ("batch-1", "batch-2"):
        agents.override[rid] = {"phase": "Exited", "exit_code": 0, "ready": False}
    agents.settle(clock, rounds=3)
    info = plane.service.list_workloads().workloads[0]
    assert (info.succeeded, info.desired, info.rollout.state) == (3, 3, "Complete")
    assert "JobComplete" in [e.reason for e in plane.store.list_events(obj="batch")]


def test_a_job_fails_past_its_backoff_limit(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("batch", mode="job", replicas=None, backoffLimit=1)])
    agents.override["revision", 1] = {"phase": "Exited", "exit_code": 2, "ready": False}
    agents.settle(clock, rounds=6)
    info = plane.service.list_workloads().workloads[0]
    assert info.rollout.state == "Failed" and "backoffLimit 1 exceeded" in info.rollout.message
    assert [r.phase for r in plane.store.list_replicas()] == ["Failed", "Failed"]


def test_drain_moves_replicas_within_the_budget(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2, update=UPDATE)])
    agents.settle(clock, rounds=2)
    agents.join("vm-2")
    plane.service.drain_node("vm-1", False)
    seen = []
    for _ in range(15):
        total, ready = counts(plane)
        seen.append((total, ready))
        assert total <= 3 and ready >= 2, seen
        agents.settle(clock, rounds=1)
    assert {r.node for r in plane.store.list_replicas()} == {"vm-2"}
    assert plane.store.get_node("vm-1").schedulable is False
    plane.service.set_schedulable("vm-1", True)
    assert not plane.store.get_node("vm-1").draining


def test_a_pass_over_many_workloads_waits_for_one_store_write(plane, clock):
    """Each workload's sync is its own transaction, but the pass waits once, at its end, for all of
    them (it waited for each one's write: with 100 workloads on lost nodes the heal waited 100
    batches behind the agents' reports)."""
    agents = Agents(plane)
    agents.join("vm-1")
    plane.service.apply([workload_json(f"w-{i}") for i in range(20)])
    agents.settle(clock, rounds=3)
    agents.sessions.clear()            # vm-1 goes silent
    clock.advance(11)
    assert plane.liveness.run_once(clock())
    for i in range(20):
        plane.workloads.mark(f"w-{i}")
    before = {i: plane.store.get_workload(f"w-{i}").rollout_progress_key for i in range(20)}
    written, waited = [], []
    apply_batch, flush = plane.store.backing.apply_batch, plane.store.flush
    plane.store.backing.apply_batch = lambda *a: (written.append(len(a[0])), apply_batch(*a))[1]
    plane.store.flush = lambda: (waited.append(1), flush())[1]
    plane.workloads.run_once(clock())
    after = {i: plane.store.backing.get_workload(f"w-{i}").rollout_progress_key for i in range(20)}
    assert all(after[i] != before[i] for i in range(20))           # each one written, and durable
    assert waited == [1] and sum(written) >= 20 and len(written) <= 2, written
