"""Preferred node affinity: the share (0..100) of the workload's preference weight a node matches."""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Scorer
from orchestra.scheduler.selectors import match_all

NAME = "preferred-affinity"


class PreferredAffinity(Scorer):
    name = NAME

    def applies(self, d):
        return bool(d.placement.preferred)

    def vector(self, c, w):
        v = w.cache.get(NAME)
        if v is None:
            terms = w.demand.placement.preferred
            total = sum(t.weight for t in terms) or 1
            v = np.zeros(c.size)
            for t in terms:
                v += match_all(c, t.match) * float(t.weight)
            v = w.cache[NAME] = v * (100.0 / total)
        return v

    def one(self, c, w, i):
        return self.vector(c, w)[i]
