"""Scheduler controller: a snapshot of the store -> orchestra.scheduler.schedule (pure) ->
bindings, refusals and preemptions written back through the lifecycle, in one transaction.

Each replica keeps its whole placement explanation (why this node, or why none), which
`describe`, `apply --dry-run` and `-o json` show. A node counts as ready for new replicas only
while it is Ready AND its agent's session is open: a node whose stream just closed will most
likely go NotReady, and a replica placed there would be lost twice.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from orchestra.phase import JOB_DONE
from orchestra.scheduler import BoundReplica, NodeInfo, PendingReplica, ScheduleResult, Snapshot, schedule
from orchestra.server import lifecycle, metrics, volumes
from orchestra.server.catalog import Revisions, WorkloadCatalog
from orchestra.server.events import EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.messages import placement_dict
from orchestra.server.volumes import Claims
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import READY, NodeRecord, ReplicaRecord

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
    every pass was most of the scheduler's time. Only what the last view used is kept."""

    def __init__(self):
        self._before: dict = {}
        self._now: dict = {}

    def get(self, key, record, depends, build: Callable[[], object]):
        hit = self._before.get(key)
        if hit is not None and hit[0] is record and hit[1] == depends:
            value = hit[2]
        else:
            value = build()
        self._now[key] = (record, depends, value)
        return value

    def done(self) -> None:
        self._before, self._now = self._now, {}


def build_view(store: Store, catalog: WorkloadCatalog, failures: FailureCounter, now_ms: int, default_strategy: str,
               connected: Callable[[str], bool], extra_pending: Sequence[tuple[ReplicaRecord, Workload]] = (),
               kept: Kept | None = None) -> ClusterView:
    """`kept`: what the caller keeps from one view to the next (the scheduler controller's)."""
    kept = kept or Kept()
    specs = Revisions(store, catalog)
    claims = Claims(store)
    failure_map = failures.by_node(now_ms)
    nodes = []
    for n in store.view_nodes():
        ready = n.status == READY and connected(n.name)
        nodes.append(kept.get(("node", n.name), n, (ready, failure_map.get(n.name)),
                              lambda n=n: node_info(n, failure_map, connected)))
    bound, pending = [], []
    for r in store.view_replicas():
        if r.node:
            if r.job and r.phase in JOB_DONE:
                continue            # a finished job's replica holds nothing any more
            b = kept.get(r.id, r, None, lambda r=r: _bound(r, specs))
            if b is not None:
                bound.append(b)
        elif not lifecycle.is_terminating(r):
            spec = specs.of(r.workload, r.revision)
            if spec is not None:
                pending.append((_pending(r, spec.workload, claims), r.index))
    kept.done()
    for r, w in extra_pending:
        pending.append((_pending(r, w, claims), r.index))
    # Higher priority first, then stable by workload and index.
    pending.sort(key=lambda pi: (-pi[0].workload.spec.priority, pi[0].workload.name, pi[1]))
    return ClusterView(Snapshot(nodes=tuple(nodes), bound=tuple(bound), default_strategy=default_strategy),
                       [p for p, _ in pending])


def _bound(r: ReplicaRecord, specs: Revisions) -> BoundReplica | None:
    """None: its workload is gone (its record goes soon)."""
    spec = specs.of(r.workload, r.revision)
    if spec is None:
        return None
    w = spec.workload
    return BoundReplica(replica_id=r.id, workload=r.workload, node=r.node, requests=r.requests,
                        priority=w.spec.priority, tenant=w.spec.tenant, ports=w.spec.template.ports)


def _pending(r: ReplicaRecord, w: Workload, claims: Claims) -> PendingReplica:
    node, why = claims.pin(r.workload, r.index, w.spec.template)
    return PendingReplica(replica_id=r.id, workload=w, group=str(r.revision), pinned=r.pinned_node,
                          volume_node=node, volume_why=why)


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
        view = build_view(self.store, self.catalog, self.failures, now_ms, self.default_strategy, self.connected,
                          kept=self._kept)
        if not view.pending:
            return ScheduleResult()
        result = schedule(view.snapshot, view.pending)
        self.commit(result, view.pending, now_ms)
        metrics.scheduled(result, len(view.pending), time.perf_counter() - started)
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
