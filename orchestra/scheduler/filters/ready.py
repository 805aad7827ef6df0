"""Nodes that are Ready and schedulable (not cordoned; a daemon's replicas run on cordoned nodes too)."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter

NAME = "ready"
REASON_NOT_READY = "node not ready"
REASON_CORDONED = "node cordoned"


class NodeReady(Filter):
    name = NAME
    static = True

    def key(self, d):
        return d.daemon

    def mask(self, c, w):
        return c.ready if w.demand.daemon else c.ready & c.schedulable

    def explain(self, c, w, idx):
        not_ready = ~c.ready[idx]
        out = []
        if not_ready.any():
            out.append((REASON_NOT_READY, idx[not_ready], ""))
        if (~not_ready).any():
            out.append((REASON_CORDONED, idx[~not_ready], ""))
        return out
