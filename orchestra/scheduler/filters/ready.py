"""Nodes that are Ready and schedulable (not cordoned)."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter

NAME = "ready"
REASON_NOT_READY = "node not ready"
REASON_CORDONED = "node cordoned"


class NodeReady(Filter):
    name = NAME
    static = True

    def key(self, d):
        return ()

    def mask(self, c, w):
        return c.ready & c.schedulable

    def explain(self, c, w, idx):
        not_ready = ~c.ready[idx]
        out = []
        if not_ready.any():
            out.append((REASON_NOT_READY, idx[not_ready], ""))
        if (~not_ready).any():
            out.append((REASON_CORDONED, idx[~not_ready], ""))
        return out
