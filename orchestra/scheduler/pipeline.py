"""First placement: CPU/memory fit, first node in name order. Replaced by the plugin pipeline."""
from __future__ import annotations

from typing import Sequence

from orchestra.scheduler.result import ScheduleResult
from orchestra.scheduler.snapshot import PendingReplica, Snapshot
from orchestra.spec.model import Resources


def schedule(snapshot: Snapshot, pending: Sequence[PendingReplica]) -> ScheduleResult:
    free = {n.name: n.capacity for n in snapshot.nodes if n.ready and n.schedulable}
    for b in snapshot.bound:
        if b.node in free:
            free[b.node] = free[b.node] - b.requests
    result = ScheduleResult()
    for p in pending:
        need = p.workload.spec.template.resources
        for name in sorted(free):
            if need.fits_in(free[name]):
                free[name] = free[name] - need
                result.placements[p.replica_id] = name
                result.explanations[p.replica_id] = f"placed on {name}"
                break
        else:
            result.explanations[p.replica_id] = f"0/{len(snapshot.nodes)} nodes fit"
    return result
