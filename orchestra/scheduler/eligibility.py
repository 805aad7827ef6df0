"""Which nodes a daemon runs on: every Ready node that passes its own static filters (selector,
affinity, taints; cordoned nodes too, as Kubernetes' DaemonSets). Pure, like the scheduler.

A node that lacks the daemon's image is eligible all the same: its replica is made and waits
Pending there, its explanation saying which image is missing, until `orchestra image load` brings it."""
from __future__ import annotations

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.demand import Demand
from orchestra.scheduler.filters import STATIC_FILTERS, image
from orchestra.scheduler.plugin import WorkloadState
from orchestra.scheduler.snapshot import Snapshot
from orchestra.spec.model import Workload


def eligible_nodes(snapshot: Snapshot, workload: Workload) -> list[str]:
    c = ClusterState(snapshot)
    w = WorkloadState(c, Demand.of(workload, c.default_strategy))
    m = c.all_nodes.copy()
    for f in STATIC_FILTERS:
        if f.applies(w.demand) and f.name != image.NAME:
            m &= f.mask(c, w)
    return [c.names[i] for i in m.nonzero()[0]]
