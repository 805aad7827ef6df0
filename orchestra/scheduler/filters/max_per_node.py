"""maxPerNode: at most N replicas of the workload on one node."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter

NAME = "max-per-node"


class MaxPerNode(Filter):
    name = NAME
    static = False

    def applies(self, d):
        return d.placement.max_per_node > 0

    def mask(self, c, w):
        return w.counts < w.demand.placement.max_per_node

    def passes(self, c, w, i):
        return w.counts[i] < w.demand.placement.max_per_node

    def explain(self, c, w, idx):
        m = w.demand.placement.max_per_node
        return [(f"maxPerNode {m} reached", idx, "")]
