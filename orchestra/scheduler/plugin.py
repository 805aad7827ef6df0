"""The two kinds of plugin and the per-workload state they share.

A Filter keeps or drops nodes, each drop with a reason. It answers for all nodes at once
(`mask`, a bool vector) and, when its answer can change as replicas are placed (`static` is
False), for one node (`passes`), so the pipeline re-checks only the node it just changed.

A Scorer ranks the nodes left: `vector` for all nodes, `one` for a single node, and `placed`
names the nodes whose score changed after a replica of the workload landed on node j.
"""
from __future__ import annotations

from typing import Any, Hashable

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.demand import Demand


class WorkloadState:
    """One workload's view during a pass: its demand, its replicas per node, scorer caches."""

    def __init__(self, cluster: ClusterState, demand: Demand):
        self.demand = demand
        self.counts = cluster.workload_counts(demand.workload)
        self.tenant = cluster.tenant_code(demand.tenant)
        self.cache: dict[str, Any] = {}


class Filter:
    name = ""
    static = True       # True: depends only on node facts and the demand, never on what is placed

    def applies(self, d: Demand) -> bool:
        """False when the demand does not use this filter (then every node passes)."""
        return True

    def key(self, d: Demand) -> Hashable:
        """For static filters: demands with equal keys get the same mask (cached per pass)."""
        return None

    def mask(self, c: ClusterState, w: WorkloadState) -> np.ndarray:
        raise NotImplementedError

    def passes(self, c: ClusterState, w: WorkloadState, i: int) -> bool:
        return bool(self.mask(c, w)[i])

    def explain(self, c: ClusterState, w: WorkloadState, idx: np.ndarray) -> list[tuple[str, np.ndarray, str]]:
        """Reasons for the rejected nodes `idx`: (reason, node indices, detail such as the closest miss)."""
        raise NotImplementedError


class Scorer:
    name = ""

    def applies(self, d: Demand) -> bool:
        return True

    def active(self, c: ClusterState, w: WorkloadState) -> bool:
        """Whether this scorer takes part for w; inactive scorers cost nothing."""
        return self.applies(w.demand)

    def vector(self, c: ClusterState, w: WorkloadState) -> np.ndarray:
        raise NotImplementedError

    def one(self, c: ClusterState, w: WorkloadState, i: int) -> float:
        return float(self.vector(c, w)[i])

    def placed(self, c: ClusterState, w: WorkloadState, j: int) -> np.ndarray | None:
        """After a replica of w landed on j: nodes (besides j) whose score changed, or None."""
        return None
