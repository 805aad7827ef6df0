"""Topology spread (`spreadBy: zone`): prefer label values (zones) holding fewest replicas of the workload.

Soft: a node without the label scores 0 here but stays feasible. Placing on a zone changes the
score of every node in that zone, which `placed` reports.
"""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Scorer

NAME = "topology-spread"


class TopologySpread(Scorer):
    name = NAME

    def applies(self, d):
        return bool(d.placement.spread_by)

    def _zones(self, c, w):
        z = w.cache.get(NAME)
        if z is None:
            col = c.label_column(w.demand.placement.spread_by)
            labelled = col >= 0
            per_zone = np.bincount(col[labelled], weights=w.counts[labelled], minlength=int(col.max(initial=-1)) + 1)
            z = w.cache[NAME] = (col, labelled, per_zone)
        return z

    def vector(self, c, w):
        col, labelled, per_zone = self._zones(c, w)
        if not labelled.any():
            return np.zeros(c.size)
        return np.where(labelled, 100.0 / (1 + per_zone[np.where(labelled, col, 0)]), 0.0)

    def one(self, c, w, i):
        col, labelled, per_zone = self._zones(c, w)
        return 100.0 / (1 + per_zone[col[i]]) if labelled[i] else 0.0

    def placed(self, c, w, j):
        col, labelled, per_zone = self._zones(c, w)
        if not labelled[j]:
            return None
        per_zone[col[j]] += 1
        return np.flatnonzero(col == col[j])
