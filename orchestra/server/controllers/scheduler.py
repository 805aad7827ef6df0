"""Scheduler controller: a snapshot of the store -> orchestra.scheduler.schedule (pure) ->
bindings, refusals and preemptions written back through the lifecycle, in one transaction.

Each replica keeps its whole placement explanation (why this node, or why none), which
`describe`, `apply --dry-run` and `-o json` show. A node counts as ready for new replicas only
while it is Ready AND its agent's session is open: a node whose stream just closed will most
likely go NotReady, and a replica placed there would be lost twice.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from orchestra.phase import JOB_DONE
from orchestra.scheduler import (BoundReplica, ClusterState, NodeInfo, PendingReplica, ScheduleResult, Snapshot,
                                 schedule_on)
from orchestra.server import lifecycle, metrics, volumes
from orchestra.server.catalog import Revisions, WorkloadCatalog
from orchestra.server.events import EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.messages import placement_dict
from orchestra.server.volumes import Claims
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import READY, NodeRecord, ReplicaRecord, RevisionRecord, WorkloadRecord

RETRY_EVERY_MS = 5_000     # unplaceable replicas are tried again this often (and whenever something changed)
# Replicas whose decisions one transaction writes: with their events well within the 10,000 operations
# of one etcd transaction (orchestra.store.etcd).
COMMIT_CHUNK = 1_000


@dataclass
class ClusterView:
    snapshot: Snapshot
    pending: list[PendingReplica]


def node_info(n: NodeRecord, failures: dict[str, dict[str, int]], connected: Callable[[str], bool]) -> NodeInfo:
    return NodeInfo(name=n.name, capacity=n.capacity, labels=dict(n.labels),
                    ready=n.status == READY and connected(n.name), schedulable=n.schedulable,
                    taints=tuple(n.taints), recent_failures=dict(failures.get(n.name, {})),
                    images=frozenset(n.images) if n.images_reported else None)


class Kept:
    """What a view builds from store records, kept from one view to the next while the record (the
    store's own, never changed in place: orchestra.store.cache) and what else it depends on stay the
    same: at 1,000 nodes and 10,000 replicas, building every NodeInfo and BoundReplica again on
    every pass was most of the scheduler's time. What is built again the same as before is the object
    before (KeptCluster keeps its state while every NodeInfo is). Only what the last view used is kept."""

    def __init__(self):
        self._before: dict = {}
        self._now: dict = {}

    def get(self, key, record, depends, build: Callable[[], object]):
        hit = self._before.get(key)
        if hit is not None and hit[0] is record and hit[1] == depends:
            value = hit[2]
        else:
            value = build()
            if hit is not None and value == hit[2]:
                value = hit[2]  # the same as before (e.g. a node record changed where the view does not look)
        self._now[key] = (record, depends, value)
        return value

    def done(self) -> None:
        self._before, self._now = self._now, {}


def node_infos(store: Store, failures: FailureCounter, now_ms: int, connected: Callable[[str], bool],
               kept: Kept) -> tuple[NodeInfo, ...]:
    failure_map = failures.by_node(now_ms)
    nodes = []
    for n in store.view_nodes():
        ready = n.status == READY and connected(n.name)
        nodes.append(kept.get(("node", n.name), n, (ready, failure_map.get(n.name)),
                              lambda n=n: node_info(n, failure_map, connected)))
    return tuple(nodes)


def bound_replica(r: ReplicaRecord, specs: Revisions) -> BoundReplica | None:
    """What a bound replica holds on its node; None: it holds nothing (a finished job's replica, or
    its workload is gone and its record goes soon)."""
    if r.job and r.phase in JOB_DONE:
        return None
    spec = specs.of(r.workload, r.revision)
    if spec is None:
        return None
    w = spec.workload
    return BoundReplica(replica_id=r.id, workload=r.workload, node=r.node, requests=r.requests,
                        priority=w.spec.priority, tenant=w.spec.tenant, ports=w.spec.template.ports)


def pending_replicas(unbound: Iterable[ReplicaRecord], specs: Revisions, claims: Claims,
                     extra: Sequence[tuple[ReplicaRecord, Workload]] = ()) -> list[PendingReplica]:
    """Higher priority first, then stable by workload and index."""
    pending = []
    for r in unbound:
        if not lifecycle.is_terminating(r):
            spec = specs.of(r.workload, r.revision)
            if spec is not None:
                pending.append((_pending(r, spec.workload, claims), r.index))
    for r, w in extra:
        pending.append((_pending(r, w, claims), r.index))
    pending.sort(key=lambda pi: (-pi[0].workload.spec.priority, pi[0].workload.name, pi[1]))
    return [p for p, _ in pending]


def build_view(store: Store, catalog: WorkloadCatalog, failures: FailureCounter, now_ms: int, default_strategy: str,
               connected: Callable[[str], bool], extra_pending: Sequence[tuple[ReplicaRecord, Workload]] = (),
               kept: Kept | None = None) -> ClusterView:
    """Every node and bound replica as they are now (a dry run's view); `kept`: what the caller keeps
    from one view to the next."""
    kept = kept or Kept()
    specs = Revisions(store, catalog)
    nodes = node_infos(store, failures, now_ms, connected, kept)
    bound, unbound = [], []
    for r in store.view_replicas():
        if not r.node:
            unbound.append(r)
            continue
        b = kept.get(r.id, r, None, lambda r=r: bound_replica(r, specs))
        if b is not None:
            bound.append(b)
    kept.done()
    return ClusterView(Snapshot(nodes=nodes, bound=tuple(bound), default_strategy=default_strategy),
                       pending_replicas(unbound, specs, Claims(store), extra_pending))


def _pending(r: ReplicaRecord, w: Workload, claims: Claims) -> PendingReplica:
    node, why = claims.pin(r.workload, r.index, w.spec.template)
    return PendingReplica(replica_id=r.id, workload=w, group=str(r.revision), pinned=r.pinned_node,
                          volume_node=node, volume_why=why)


class KeptCluster:
    """The scheduler's working copy (ClusterState) kept from pass to pass and brought up to date from
    the store's change feed (orchestra.store.cache tells every commit): a pass re-reads only the
    replicas that changed since the last one (and those of a workload whose spec or revisions
    changed), where indexing all 10,000 bound replicas again was most of a pass. It is built again
    from every bound replica when any node's NodeInfo changed (its record, session or recent
    failures), after the cache was read back, and on every pass over a store that tells nothing."""

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._replicas: set[str] = set()
        self._workloads: set[str] = set()
        self._everything = True
        subscribe = getattr(store, "subscribe", None)
        self.tracked = subscribe is not None
        if subscribe is not None:
            subscribe(self._heard)
        self._bound: dict[str, BoundReplica] = {}
        self._state: ClusterState | None = None
        self._nodes: tuple[NodeInfo, ...] = ()
        self._strategy = ""

    def _heard(self, changes) -> None:
        if changes is None:
            with self._lock:
                self._everything = True
            return
        replicas, workloads = set(), set()
        for cls, key, old, new in changes:
            if cls is ReplicaRecord:
                replicas.add(key)
            elif cls is WorkloadRecord:
                if old is None or new is None or old.spec_json != new.spec_json:
                    workloads.add(key)
            elif cls is RevisionRecord:
                workloads.add((old or new).workload)
        if replicas or workloads:
            with self._lock:
                self._replicas |= replicas
                self._workloads |= workloads

    def _take(self) -> set[str] | None:
        """The replicas to read again (None: every one), and forget them."""
        with self._lock:
            everything = self._everything or not self.tracked
            replicas, workloads = self._replicas, self._workloads
            self._everything, self._replicas, self._workloads = False, set(), set()
        if everything:
            return None
        for name in workloads:
            replicas.update(r.id for r in self.store.view_replicas(workload=name))
        return replicas

    def state(self, nodes: tuple[NodeInfo, ...], specs: Revisions, default_strategy: str) -> ClusterState:
        changed = self._take()
        state = self._state
        if (state is None or changed is None or default_strategy != self._strategy or len(nodes) != len(self._nodes)
                or any(a is not b for a, b in zip(nodes, self._nodes))):
            state = None            # built again below, from _bound as it is then
        if changed is None:
            self._bound = {}
            for r in self.store.view_replicas(bound=True):
                b = bound_replica(r, specs)
                if b is not None:
                    self._bound[r.id] = b
        else:
            for rid in changed:
                r = self.store.peek(ReplicaRecord, rid)
                new = bound_replica(r, specs) if r is not None and r.node else None
                old = self._bound.get(rid)
                if old == new:
                    continue
                if new is None:
                    del self._bound[rid]
                else:
                    self._bound[rid] = new
                if state is not None:
                    if old is not None:
                        state.unplace(old)
                    if new is not None:
                        state.place(new)
        if state is None:
            state = ClusterState(Snapshot(nodes=nodes, bound=tuple(self._bound.values()),
                                          default_strategy=default_strategy))
        self._state, self._nodes, self._strategy = state, nodes, default_strategy
        return state


class SchedulerController:
    def __init__(self, store: Store, events: EventLog, catalog: WorkloadCatalog, failures: FailureCounter,
                 default_strategy: str, connected: Callable[[str], bool]):
        self.store = store
        self.events = events
        self.catalog = catalog
        self.failures = failures
        self.default_strategy = default_strategy
        self.connected = connected
        self._due = True
        self._last_ms = 0
        self._kept = Kept()
        self._cluster = KeptCluster(store)

    def wake(self) -> None:
        """Something happened that may let pending replicas be placed."""
        self._due = True

    def run_once(self, now_ms: int) -> ScheduleResult:
        # Not on every tick: a large unplaceable backlog would burn CPU for nothing.
        if not self._due and now_ms - self._last_ms < RETRY_EVERY_MS:
            return ScheduleResult()
        self._due = False
        self._last_ms = now_ms
        if not self.store.view_replicas(bound=False):
            return ScheduleResult()      # the common case: nothing waits, no snapshot to build
        started = time.perf_counter()
        specs = Revisions(self.store, self.catalog)
        # Pending first: only this controller binds, so a replica read unbound here is not bound below.
        pending = pending_replicas(self.store.view_replicas(bound=False), specs, Claims(self.store))
        if not pending:
            return ScheduleResult()
        nodes = node_infos(self.store, self.failures, now_ms, self.connected, self._kept)
        self._kept.done()
        result = schedule_on(self._cluster.state(nodes, specs, self.default_strategy), pending)
        self.commit(result, pending, now_ms)
        metrics.scheduled(result, len(pending), time.perf_counter() - started)
        if result.preemptions:
            self._due = True             # the evicted replicas are pending now: place them at once
        return result

    def commit(self, result: ScheduleResult, pending: Sequence[PendingReplica], now_ms: int) -> None:
        """Write one pass back, in transactions of COMMIT_CHUNK replicas (the preemptions with the first):
        each decision stands alone, and one transaction of a whole large backlog would exceed what
        one etcd transaction may hold. Each record is checked again: whatever changed since the
        snapshot (a replica deleted or bound, a node gone NotReady) is left to the next pass."""
        for start in range(0, max(1, len(pending)), COMMIT_CHUNK):
            self._commit_chunk(result, pending[start:start + COMMIT_CHUNK], now_ms, preempt=start == 0)

    def _commit_chunk(self, result: ScheduleResult, pending: Sequence[PendingReplica], now_ms: int,
                      preempt: bool) -> None:
        with self.store.transaction():
            for p in result.preemptions if preempt else ():
                victim = self.store.get_replica(p.victim)
                if victim is not None and victim.node == p.node and not lifecycle.is_terminating(victim):
                    lifecycle.preempt(self.store, self.events, victim, p.for_replica, p.reason, now_ms)
            nodes = {n.name: n for n in self.store.view_nodes()}
            for p in pending:
                r = self.store.get_replica(p.replica_id)
                if r is None or r.node or lifecycle.is_terminating(r):
                    continue
                line = result.explanations.get(p.replica_id, "") or "no node can take it"
                detail = result.details.get(p.replica_id)
                placement = placement_dict(detail, line, now_ms) if detail is not None else {"summary": line}
                target = result.placements.get(p.replica_id, "")
                node = nodes.get(target)
                if target and node is not None and node.status == READY and node.schedulable:
                    # Its volumes are claimed on that node in the same transaction (or its data is elsewhere
                    # by now: the next pass sees that).
                    if volumes.claim(self.store, self.events, r, target, p.workload.spec.template, now_ms):
                        lifecycle.bind(self.store, self.events, r, target, line, placement, now_ms)
                elif not target:
                    lifecycle.unplaced(self.store, self.events, r, line, placement, now_ms)
