"""A daemon's replica runs on its own node only."""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Filter

NAME = "pinned-node"
REASON = "not this daemon replica's node"


class PinnedNode(Filter):
    name = NAME
    static = True

    def applies(self, d):
        return bool(d.pinned)

    def key(self, d):
        return d.pinned

    def mask(self, c, w):
        m = np.zeros(c.size, dtype=bool)
        i = c.index.get(w.demand.pinned)
        if i is not None:
            m[i] = True
        return m

    def explain(self, c, w, idx):
        return [(REASON, idx, f"runs on {w.demand.pinned} only")]
