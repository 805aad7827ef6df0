"""A small penalty on nodes where a replica of this workload just failed (10 per failure, at most 30)."""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Scorer

NAME = "recent-failures"
PER_FAILURE = 10.0
MAX_FAILURES = 3


class RecentFailures(Scorer):
    name = NAME

    def active(self, c, w):
        return w.demand.workload in c.failures

    def vector(self, c, w):
        v = w.cache.get(NAME)
        if v is None:
            v = np.zeros(c.size)
            for i, n in c.failures.get(w.demand.workload, {}).items():
                v[i] = -PER_FAILURE * min(n, MAX_FAILURES)
            w.cache[NAME] = v
        return v

    def one(self, c, w, i):
        return self.vector(c, w)[i]
