"""Scheduler loop: snapshot of the store -> orchestra.scheduler.schedule -> bindings.

The placement itself is a pure function; this module builds its input and writes its
output back in one transaction (bindings with incarnation+1, pending explanations,
preemptions)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from orchestra.scheduler import BoundReplica, NodeInfo, PendingReplica, ScheduleResult, Snapshot, schedule
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.workloads import WorkloadCatalog
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import PENDING, READY, SCHEDULED, NodeRecord, ReplicaRecord


@dataclass
class ClusterView:
    snapshot: Snapshot
    pending: list[PendingReplica]
    workloads: dict[str, Workload]


def node_info(n: NodeRecord, failures: dict[str, dict[str, int]]) -> NodeInfo:
    return NodeInfo(name=n.name, capacity=n.capacity, labels=dict(n.labels), ready=n.status == READY,
                    schedulable=n.schedulable, taints=tuple(n.taints), recent_failures=dict(failures.get(n.name, {})))


def pending_order(p: PendingReplica, index: int) -> tuple:
    # Higher priority first, then stable by workload and index.
    return (-p.workload.spec.priority, p.workload.name, index)


def build_view(store: Store, catalog: WorkloadCatalog, failures: FailureCounter, now_ms: int,
               default_strategy: str, extra_pending: Sequence[tuple[ReplicaRecord, Workload]] = ()) -> ClusterView:
    workloads = {name: w for name, (_, w) in catalog.all().items()}
    failure_map = failures.by_node(now_ms)
    nodes = tuple(node_info(n, failure_map) for n in store.list_nodes())
    bound, pending = [], []
    for r in store.list_replicas():
        w = workloads.get(r.workload)
        if w is None:
            continue
        if r.node:
            bound.append(BoundReplica(replica_id=r.id, workload=r.workload, node=r.node, requests=r.requests,
                                      priority=w.spec.priority, tenant=w.spec.tenant, ports=w.spec.template.ports))
        else:
            pending.append((PendingReplica(replica_id=r.id, workload=w), r.index))
    for r, w in extra_pending:
        workloads.setdefault(w.name, w)
        pending.append((PendingReplica(replica_id=r.id, workload=w), r.index))
    pending.sort(key=lambda pi: pending_order(*pi))
    snapshot = Snapshot(nodes=nodes, bound=tuple(bound), default_strategy=default_strategy)
    return ClusterView(snapshot, [p for p, _ in pending], workloads)


def run_scheduling_pass(store: Store, events: EventLog, catalog: WorkloadCatalog, failures: FailureCounter,
                        clock_ms: Callable[[], int], default_strategy: str) -> ScheduleResult:
    if not store.list_replicas(bound=False):
        return ScheduleResult()  # the common case: nothing waits, no snapshot to build
    view = build_view(store, catalog, failures, clock_ms(), default_strategy)
    if not view.pending:
        return ScheduleResult()
    result = schedule(view.snapshot, view.pending)
    apply_result(store, events, result, view.pending, clock_ms())
    return result


def apply_result(store: Store, events: EventLog, result: ScheduleResult, pending: Sequence[PendingReplica],
                 now_ms: int) -> None:
    """Write one scheduling pass back, in ONE transaction. Re-checks each record: whatever changed since the
    snapshot (a replica deleted or bound, a node gone NotReady) is left to the next pass."""
    with store.transaction():
        for p in result.preemptions:
            victim = store.get_replica(p.victim)
            if victim is None or victim.node != p.node:
                continue
            victim.node = ""
            victim.phase = PENDING
            victim.reason = f"preempted on {p.node} by {p.for_replica}: {p.reason}"
            victim.container_id = ""
            victim.usage = {}
            victim.updated_at_ms = now_ms
            store.put_replica(victim)
            events.emit("Replica", victim.id, WARNING, "Preempted", victim.reason)
        nodes = {n.name: n for n in store.list_nodes()}
        for p in pending:
            r = store.get_replica(p.replica_id)
            if r is None or r.node:
                continue
            explanation = result.explanations.get(p.replica_id, "")
            target = result.placements.get(p.replica_id, "")
            node = nodes.get(target)
            if target and node is not None and node.status == READY and node.schedulable:
                r.node = target
                r.incarnation += 1
                r.phase = SCHEDULED
                r.reason = explanation
                r.exit_code = 0
                r.restarts = 0
                r.container_id = ""
                r.next_restart_ms = 0
                r.usage = {}
                r.updated_at_ms = now_ms
                store.put_replica(r)
                events.emit("Replica", r.id, NORMAL, "Scheduled",
                            f"{r.id} bound to {target}" + (f": {explanation}" if explanation else ""))
            elif not target:
                explanation = explanation or "no node can take it"
                if r.reason != explanation:  # only say it again when the reason changes
                    r.reason = explanation
                    r.updated_at_ms = now_ms
                    store.put_replica(r)
                    events.emit("Replica", r.id, WARNING, "FailedScheduling", explanation)
