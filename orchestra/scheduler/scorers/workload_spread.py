"""Spread one workload's replicas over nodes: fewest replicas of this workload first (100, 50, 33, ...)."""
from __future__ import annotations

from orchestra.scheduler.plugin import Scorer

NAME = "workload-spread"


class WorkloadSpread(Scorer):
    name = NAME

    def vector(self, c, w):
        return 100.0 / (1 + w.counts)

    def one(self, c, w, i):
        return 100.0 / (1 + w.counts[i])
