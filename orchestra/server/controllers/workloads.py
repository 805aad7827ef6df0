"""Workload controller: each workload's replica records follow its spec, one rollout step at a
time (orchestra.server.rollout decides; orchestra.server.lifecycle writes), and its rollout
state, message and events follow the replicas. Also finishes deletions: a deleted workload's
replicas are retired, and the workload goes when the last of them is gone.

Level-triggered: `run_once` looks at the workloads something happened to (marked), the ones
whose rollout is not complete (time alone moves them: minReadySeconds, deadlines), and at
every workload every FULL_EVERY_MS.
"""
from __future__ import annotations

import operator
import threading
from typing import Callable, Sequence

from orchestra.phase import JOB_DONE
from orchestra.scheduler import NodeInfo, Snapshot
from orchestra.scheduler.eligibility import eligible_nodes
from orchestra.server import daemons, jobs, lifecycle, revisions, rollout
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.spec import codec
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.cache import not_waiting
from orchestra.store.records import READY, NodeRecord, ReplicaRecord, WorkloadRecord

FULL_EVERY_MS = 10_000


def goal_of(rec: WorkloadRecord, w: Workload, desired: int | None = None) -> rollout.Goal:
    """The rollout goal: `desired` replicas (a replicated workload's spec.replicas unless given:
    a daemon's eligible nodes)."""
    desired = w.spec.replicas if desired is None else desired
    surge, unavailable = w.spec.update.limits(desired)
    return rollout.Goal(desired=desired, revision=rec.revision, max_surge=surge,
                        max_unavailable=unavailable, min_ready_ms=w.spec.update.min_ready_seconds * 1000,
                        paused=rec.paused, deleting=rec.deleting)


def _failing_probe(r: ReplicaRecord) -> str:
    for p in r.probes:
        if p.get("result") == "Failure" and p.get("probe") in ("readiness", "startup", "healthcheck"):
            name = {"readiness": "readinessProbe", "startup": "startupProbe"}.get(p["probe"], "HEALTHCHECK")
            what = p.get("action", "")
            said = p.get("message") or "failed"
            return f"{name} {what} {said} ({p.get('consecutive_failures', 1)} times)".replace("  ", " ")
    return ""


def views_of(replicas: Sequence[ReplicaRecord], min_ready_ms: int, now_ms: int,
             draining: frozenset[str] | set[str] = frozenset()) -> list[rollout.ReplicaView]:
    return [rollout.ReplicaView(
        id=r.id, index=r.index, revision=r.revision, terminating=lifecycle.is_terminating(r), bound=bool(r.node),
        ready=r.ready, available=lifecycle.is_available(r, now_ms, min_ready_ms), phase=r.phase, reason=r.reason,
        restarts=r.restarts, exit_code=r.exit_code, node=r.node,
        ready_for_ms=now_ms - r.ready_since_ms if r.ready_since_ms else 0, failing_probe=_failing_probe(r),
        draining=bool(r.node) and r.node in draining)
        for r in replicas]


def apply_step(store: Store, events: EventLog, rec: WorkloadRecord, w: Workload, s: rollout.Step,
               replicas: Sequence[ReplicaRecord], now_ms: int) -> list[str]:
    """Carry out one step inside the caller's transaction; returns the ids it created."""
    by_id = {r.id: r for r in replicas}
    for rid, why in s.retire:
        r = by_id.get(rid)
        if r is not None:
            lifecycle.retire(store, events, r, why, now_ms)
    taken = {r.index for r in replicas if store.get_replica(r.id) is not None}
    rec = store.get_workload(rec.name) or rec      # as removals above left it
    created = []
    for index in lifecycle.free_indices(taken, s.create):
        r = lifecycle.create(store, rec, index, w.spec.template.resources, now_ms)
        created.append(r.id)
    return created


class WorkloadController:
    def __init__(self, store: Store, events: EventLog, catalog: WorkloadCatalog, clock_ms: Callable[[], int]):
        self.store = store
        self.events = events
        self.catalog = catalog
        self.clock_ms = clock_ms
        self._marked: set[str] = set()
        self._active: set[str] = set()
        self._last_full_ms = 0
        self._nodes_key: tuple = ()
        self._nodes_seen: list[NodeRecord] = []
        self._lock = threading.Lock()

    def mark(self, name: str) -> None:
        """Something happened to workload `name` (a report, a node loss): look at it next pass."""
        with self._lock:
            self._marked.add(name)

    def run_once(self, now_ms: int) -> bool:
        """One pass; True when replica records were created or retired (the scheduler has work)."""
        with self._lock:
            names = self._marked | self._active
            self._marked = set()
        nodes = self.store.view_nodes()      # read only, here and in sync
        if now_ms - self._last_full_ms >= FULL_EVERY_MS or self._nodes_changed(nodes):
            names = {w.name for w in self.store.view_workloads()}
            self._last_full_ms = now_ms
        changed = False
        # Each workload in its own transaction (one workload's failure is its own), none waiting for
        # its write: one flush at the end waits for them all, one store batch for the pass (it was a
        # write waited for per workload: 100 workloads whose replicas a lost node held took the
        # controllers thread 100 batches behind the agents' reports, and no lost replica was placed
        # meanwhile).
        draining = frozenset(n.name for n in nodes if n.draining)   # once a pass: 10,000 workloads x 1,000 nodes
        with not_waiting():
            for name in sorted(names):
                changed |= self.sync(name, now_ms, nodes, draining)
        self.store.flush()
        return changed

    def _nodes_changed(self, nodes: list[NodeRecord]) -> bool:
        """Nodes came, went (Ready or not) or began draining: daemons and drains follow at once."""
        # The store's view hands out its own records and replaces one on every put: the same
        # objects as last pass means no node changed, without building the key (at 1,000 nodes the
        # key was 8% of an idle plane's samples).
        if len(nodes) == len(self._nodes_seen) and all(map(operator.is_, nodes, self._nodes_seen)):
            return False
        self._nodes_seen = nodes
        key = tuple((n.name, n.status, n.draining, n.drain_daemons, tuple(sorted(n.labels.items()))) for n in nodes)
        changed, self._nodes_key = key != self._nodes_key, key
        return changed

    def sync(self, name: str, now_ms: int, nodes: list[NodeRecord], draining: frozenset[str]) -> bool:
        with self.store.transaction():
            rec = self.store.get_workload(name)
            if rec is None:
                self._set_active(name, False)
                return False
            replicas = self.store.list_replicas(workload=name)
            if rec.deleting:
                return self._finish_delete(rec, replicas, now_ms)
            w = self.catalog.workload(rec)
            if w.spec.mode == "job":
                return self._sync_job(rec, w, replicas, now_ms)
            if w.spec.mode == "daemon":
                return self._sync_daemon(rec, w, replicas, nodes, now_ms)
            goal = goal_of(rec, w)
            s = rollout.step(goal, views_of(replicas, goal.min_ready_ms, now_ms, draining))
            if s.create or s.retire:
                apply_step(self.store, self.events, rec, w, s, replicas, now_ms)
                rec = self.store.get_workload(name)    # removals write to it (lifecycle.remove)
                replicas = self.store.list_replicas(workload=name)
            p = rollout.progress(goal, views_of(replicas, goal.min_ready_ms, now_ms, draining))
            self._follow(rec, w, goal, p, now_ms)
            self._set_active(name, p.state != rollout.COMPLETE)
            return bool(s.create or s.retire)

    def _sync_daemon(self, rec: WorkloadRecord, w: Workload, replicas: list[ReplicaRecord],
                     nodes: list[NodeRecord], now_ms: int) -> bool:
        candidates = [NodeInfo(name=n.name, capacity=n.capacity, labels=dict(n.labels), ready=n.status == READY,
                               schedulable=n.schedulable, taints=tuple(n.taints))
                      for n in nodes if not n.drain_daemons]
        eligible = eligible_nodes(Snapshot(nodes=tuple(candidates)), w)
        if rec.daemon_nodes != len(eligible):
            rec.daemon_nodes = len(eligible)
            self.store.put_workload(rec)
        goal = goal_of(rec, w, desired=len(eligible))
        views = views_of(replicas, goal.min_ready_ms, now_ms)
        s = daemons.step(goal, eligible, [daemons.DaemonReplica(v, r.pinned_node) for v, r in zip(views, replicas)])
        by_id = {r.id: r for r in replicas}
        for rid, why in s.retire:
            lifecycle.retire(self.store, self.events, by_id[rid], why, now_ms)
        if s.create:
            rec = self.store.get_workload(rec.name) or rec
            taken = {r.index for r in self.store.list_replicas(workload=rec.name)}
            for node, index in zip(s.create, lifecycle.free_indices(taken, len(s.create))):
                lifecycle.create(self.store, rec, index, w.spec.template.resources, now_ms, pinned=node)
        if s.create or s.retire:
            rec = self.store.get_workload(rec.name) or rec
            replicas = self.store.list_replicas(workload=rec.name)
        p = rollout.progress(goal, views_of(replicas, goal.min_ready_ms, now_ms))
        self._follow(rec, w, goal, p, now_ms)
        self._set_active(rec.name, p.state != rollout.COMPLETE)
        return bool(s.create or s.retire)

    def _sync_job(self, rec: WorkloadRecord, w: Workload, replicas: list[ReplicaRecord], now_ms: int) -> bool:
        views = views_of(replicas, 0, now_ms)
        js = jobs.step(w.spec.job, views, now_ms, rec.rollout_started_ms, rec.rollout_state)
        by_id = {r.id: r for r in replicas}
        for rid, why in js.retire:
            lifecycle.retire(self.store, self.events, by_id[rid], why, now_ms)
        if js.create:
            rec = self.store.get_workload(rec.name) or rec
            taken = {r.index for r in self.store.list_replicas(workload=rec.name)}
            for index in lifecycle.free_indices(taken, js.create):
                lifecycle.create(self.store, rec, index, w.spec.template.resources, now_ms, job=True)
        rec = self.store.get_workload(rec.name) or rec
        before = (rec.rollout_state, rec.rollout_message)
        if js.state != rec.rollout_state and js.state in (rollout.COMPLETE, rollout.FAILED):
            ok = js.state == rollout.COMPLETE
            self.events.emit("Workload", rec.name, NORMAL if ok else WARNING, "JobComplete" if ok else "JobFailed",
                             f"job {rec.name} {'complete' if ok else 'failed'}: {js.message}")
            rec.rollout_failure = "" if ok else js.message
        rec.rollout_state = js.state
        if js.message:
            rec.rollout_message = js.message
        if (rec.rollout_state, rec.rollout_message) != before:
            self.store.put_workload(rec)
        left = bool(js.create or js.retire) or any(not lifecycle.is_terminating(r) and r.phase not in JOB_DONE
                                                    for r in replicas) or js.state == rollout.PROGRESSING
        self._set_active(rec.name, left)
        return bool(js.create or js.retire)

    def _set_active(self, name: str, active: bool) -> None:
        with self._lock:
            (self._active.add if active else self._active.discard)(name)

    def _finish_delete(self, rec: WorkloadRecord, replicas: list[ReplicaRecord], now_ms: int) -> bool:
        for r in replicas:
            lifecycle.retire(self.store, self.events, r, "its workload was deleted", now_ms)
        left = self.store.list_replicas(workload=rec.name)
        if not left:
            self.store.delete_workload(rec.name)
            self.events.emit("Workload", rec.name, NORMAL, "Deleted",
                             f"workload {rec.name} deleted: every container of it is gone")
        self._set_active(rec.name, bool(left))
        return False

    # -- the rollout's state, message and events ---------------------------------------------
    def _follow(self, rec: WorkloadRecord, w: Workload, goal: rollout.Goal, p: rollout.Progress, now_ms: int) -> None:
        before = (rec.rollout_state, rec.rollout_message, rec.rollout_progress_key, rec.stable_revision)
        if p.key() != rec.rollout_progress_key:
            rec.rollout_progress_key = p.key()
            rec.rollout_progress_ms = now_ms
        since = now_ms - (rec.rollout_progress_ms or now_ms)
        stuck = since >= rollout.STUCK_AFTER_MS
        if p.state == rollout.COMPLETE:
            if rec.rollout_state != rollout.COMPLETE and rec.stable_revision != rec.revision:
                self.events.emit("Workload", rec.name, NORMAL, "RolloutComplete",
                                 f"{rec.name}: " + rollout.message(goal, p, False))
            rec.stable_revision = rec.revision
            rec.rollout_state = rollout.COMPLETE
        elif p.state == rollout.PAUSED:
            rec.rollout_state = rollout.PAUSED
        else:
            deadline_ms = w.spec.update.progress_deadline_seconds * 1000
            failure = p.failed or (f"made no progress for {deadline_ms // 1000}s (progressDeadlineSeconds): "
                                   f"{p.waiting_for}" if since > deadline_ms else "")
            if failure and w.spec.update.auto_rollback and self._can_revert(rec):
                self._roll_back(rec, w, failure, now_ms)
                return
            if failure and rec.rollout_state != rollout.FAILED:
                rec.rollout_state = rollout.FAILED
                rec.rollout_failure = failure
                self.events.emit("Workload", rec.name, WARNING, "RolloutFailed",
                                 f"{rec.name}: rollout to revision {rec.revision} failed: {failure}")
            elif rec.rollout_state != rollout.FAILED:
                if stuck and rec.rollout_state == rollout.PROGRESSING and not _was_stuck(rec):
                    self.events.emit("Workload", rec.name, WARNING, "RolloutStuck",
                                     f"{rec.name}: " + rollout.message(goal, p, True))
                rec.rollout_state = rollout.PROGRESSING
        rec.rollout_message = rollout.message(goal, p, stuck)
        if rec.rollout_state == rollout.FAILED:
            rec.rollout_message = f"rollout to revision {rec.revision} failed: {rec.rollout_failure}; now: " \
                                  f"{rec.rollout_message}"
        if (rec.rollout_state, rec.rollout_message, rec.rollout_progress_key, rec.stable_revision) != before:
            self.store.put_workload(rec)

    def _can_revert(self, rec: WorkloadRecord) -> bool:
        """There is a completed revision to go back to, and this rollout is not itself a rollback
        (two failing revisions must not take turns forever)."""
        if not rec.stable_revision or rec.stable_revision == rec.revision:
            return False
        current = self.store.get_revision(rec.name, rec.revision)
        return current is None or not current.origin.startswith("automatic rollback")

    def _roll_back(self, rec: WorkloadRecord, w: Workload, failure: str, now_ms: int) -> None:
        stable = self.store.get_revision(rec.name, rec.stable_revision)
        if stable is None:
            return
        target = codec.with_revision_part(w, codec.revision_part(self.catalog.revision(stable)))
        failed_revision = rec.revision
        number = revisions.next_number(self.store, rec.name, rec.revision)
        why = f"automatic rollback to revision {stable.number}: revision {failed_revision} {failure}"
        # The stable revision's configs and secrets come back with its template (orchestra.server.configs).
        self.store.put(revisions.make(target, number, w, now_ms, origin=f"automatic rollback to {stable.number}",
                                      change=why, refs=stable.refs))
        rec.spec_json = codec.to_json(target)
        rec.generation += 1
        rec.revision = number
        rec.updated_at_ms = now_ms
        start_rollout(rec, now_ms)
        rec.rollout_message = why
        self.store.put_workload(rec)
        self.events.emit("Workload", rec.name, WARNING, "RolledBack", f"{rec.name}: {why}")
        self.mark(rec.name)


def _was_stuck(rec: WorkloadRecord) -> bool:
    return rec.rollout_message.startswith("rollout stuck")


def start_rollout(rec: WorkloadRecord, now_ms: int) -> None:
    """A new revision begins its rollout (an apply, an undo or a rollback made it)."""
    rec.rollout_state = rollout.PROGRESSING
    rec.rollout_started_ms = now_ms
    rec.rollout_progress_ms = now_ms
    rec.rollout_progress_key = ""
    rec.rollout_message = f"rollout to revision {rec.revision} started"
    rec.rollout_failure = ""

