"""Apply, in Nomad's shape: `plan(current, workloads, now) -> ApplyPlan` decides everything and
writes nothing; `commit(plan)` writes exactly that plan. `apply --dry-run` prints the same plan
without committing it.

Per workload the plan says: created / configured / unchanged, the new generation, the revision
this apply makes (only when the template, tenant or placement changed: orchestra.spec.codec),
and the first rollout step (orchestra.server.rollout): replicas created now, replicas retired
now (a scale-down), and the old-revision replicas the rollout will replace one budget at a time.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from orchestra.server import configs, lifecycle, revisions, rollout
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.controllers.workloads import goal_of, start_rollout, views_of
from orchestra.server.events import NORMAL, EventLog
from orchestra.spec import codec
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import ReplicaRecord, RevisionRecord, WorkloadRecord


class PlanRefused(Exception):
    """The apply cannot be done as asked; str() says why."""


@dataclass
class Current:
    """What the plan reads of one workload."""
    record: WorkloadRecord | None
    replicas: list[ReplicaRecord] = field(default_factory=list)
    revision_numbers: list[int] = field(default_factory=list)
    spec: Workload | None = None
    template_hash: str = ""                       # of its current revision, as stored
    refs: dict = field(default_factory=dict)      # what its current revision reads of configs and secrets


@dataclass
class WorkloadChange:
    workload: Workload
    action: str                                   # created | configured | unchanged
    record: WorkloadRecord                        # as it will be stored
    revision: RevisionRecord | None = None        # made by this apply
    create: list[ReplicaRecord] = field(default_factory=list)     # new replicas, Pending
    retire: list[tuple[str, str]] = field(default_factory=list)   # (replica id, why), now
    replaced: list[str] = field(default_factory=list)             # old-revision replicas, over the rollout
    rollout: str = ""
    cause: str = ""                               # a workload not in the apply: which config or secret changed


@dataclass
class ApplyPlan:
    changes: list[WorkloadChange]


def read_current(store: Store, catalog: WorkloadCatalog, names: list[str]) -> dict[str, Current]:
    out = {}
    for name in names:
        rec = store.get_workload(name)
        if rec is None:
            out[name] = Current(None)
            continue
        revs = store.list_revisions(name)
        spec = catalog.workload(rec)
        now = next((r for r in revs if r.number == rec.revision), None)
        out[name] = Current(rec, store.list_replicas(workload=name), [r.number for r in revs], spec,
                            now.template_hash if now is not None else codec.template_hash(spec),
                            now.refs if now is not None else {})
    return out


def plan(current: dict[str, Current], workloads: list[Workload], now_ms: int, refs: dict[str, dict] | None = None,
         causes: dict[str, str] | None = None) -> ApplyPlan:
    """`refs`: per workload, the snapshot of the configs and secrets its template reads
    (orchestra.server.config_plan); `causes`: why a workload that is not in the apply is planned."""
    refs, causes = refs or {}, causes or {}
    return ApplyPlan([_plan_one(current.get(w.name) or Current(None), w, now_ms, refs.get(w.name, {}),
                                causes.get(w.name, "")) for w in workloads])


def _plan_one(cur: Current, w: Workload, now_ms: int, refs: dict, cause: str) -> WorkloadChange:
    if w.spec.mode == "job" and cur.record is not None:
        refs = cur.refs        # a running job keeps the config and secret content it started with
    text = codec.to_json(w)
    new_hash = codec.template_hash(w, configs.digests(refs))
    old = cur.record
    if old is not None and old.deleting:
        left = sum(1 for r in cur.replicas if r.node)
        raise PlanRefused(f"workload {w.name} is being deleted ({left} replicas still stopping); "
                          f"apply it again once it is gone")
    if old is None:
        rec = WorkloadRecord(name=w.name, spec_json=text, generation=1, created_at_ms=now_ms, updated_at_ms=now_ms,
                             revision=1)
        start_rollout(rec, now_ms)
        change = WorkloadChange(w, "created", rec, revisions.make(w, 1, None, now_ms, refs=refs))
    elif old.spec_json == text and cur.template_hash == new_hash:
        return WorkloadChange(w, "unchanged", old)
    elif cur.spec is not None and cur.spec.spec.mode != w.spec.mode:
        raise PlanRefused(f"workload {w.name} is {cur.spec.spec.mode}; spec.mode cannot change to {w.spec.mode} "
                          f"(delete it and apply it again)")
    elif w.spec.mode == "job" and cur.spec is not None and codec.template_hash(cur.spec) != codec.template_hash(w):
        raise PlanRefused(f"job {w.name}: its template, tenant and placement cannot change once it runs "
                          f"(delete the job and apply it again)")
    else:
        # The generation counts changes of the manifest; a changed config or secret alone makes a
        # revision only.
        rec = dataclasses.replace(old, spec_json=text, generation=old.generation + (old.spec_json != text),
                                  updated_at_ms=now_ms, last_incarnations=dict(old.last_incarnations))
        change = WorkloadChange(w, "configured", rec, cause=cause)
        if cur.spec is None or cur.template_hash != new_hash:
            rec.revision = max([old.revision, *cur.revision_numbers]) + 1
            start_rollout(rec, now_ms)
            change.revision = revisions.make(w, rec.revision, cur.spec, now_ms, refs=refs, refs_before=cur.refs)
    if w.spec.mode != "replicated":
        return change          # a daemon's replicas follow the nodes, a job's its progress: the controller makes them
    goal = goal_of(rec, w)
    s = rollout.step(goal, views_of(cur.replicas, goal.min_ready_ms, now_ms))
    retired = {rid for rid, _ in s.retire}
    # Retired replicas that were never placed go at once: their indices are free again.
    taken = {r.index for r in cur.replicas if r.id not in retired or r.node}
    change.create = [ReplicaRecord(id=lifecycle.replica_id(w.name, i), workload=w.name, index=i,
                                   revision=rec.revision, requests=w.spec.template.resources, created_at_ms=now_ms)
                     for i in lifecycle.free_indices(taken, s.create)]
    change.retire = s.retire
    change.replaced = [r.id for r in cur.replicas
                       if r.revision != rec.revision and not lifecycle.is_terminating(r) and r.id not in retired]
    if change.replaced:
        u = w.spec.update
        change.rollout = (f"rolling update to revision {rec.revision}: maxSurge {u.max_surge.text()}, "
                          f"maxUnavailable {u.max_unavailable.text()}"
                          + (f", minReadySeconds {u.min_ready_seconds}" if u.min_ready_seconds else ""))
    return change


def commit(store: Store, events: EventLog, p: ApplyPlan, now_ms: int) -> None:
    """Write `p` inside the caller's transaction (the one it was planned in)."""
    for c in p.changes:
        if c.action == "unchanged":
            continue
        store.put_workload(c.record)
        if c.revision is not None:
            store.put(c.revision)
        spec = c.workload.spec
        events.emit("Workload", c.workload.name, NORMAL, "Created" if c.action == "created" else "Configured",
                    f"workload {c.workload.name} {c.action} (generation {c.record.generation}, revision "
                    f"{c.record.revision}, {spec.replicas} replicas)"
                    + (f": {c.revision.change}" if c.revision is not None and c.action != "created" else ""))
        replicas = {r.id: r for r in store.list_replicas(workload=c.workload.name)}
        for rid, why in c.retire:
            if rid in replicas:
                lifecycle.retire(store, events, replicas[rid], why, now_ms)
        rec = store.get_workload(c.workload.name)
        for r in c.create:
            lifecycle.create(store, rec, r.index, r.requests, now_ms)
        in_use = {r.revision for r in store.list_replicas(workload=c.workload.name)}
        revisions.prune(store, c.workload.name, in_use | {rec.revision, rec.stable_revision})
