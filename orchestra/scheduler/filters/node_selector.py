"""nodeSelector: every key=value pair must be a label of the node."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter
from orchestra.scheduler.selectors import match_pair

NAME = "node-selector"


class NodeSelector(Filter):
    name = NAME
    static = True

    def applies(self, d):
        return bool(d.selector)

    def key(self, d):
        return d.selector

    def mask(self, c, w):
        m = c.all_nodes.copy()
        for key, value in w.demand.selector:
            m &= match_pair(c, key, value)
        return m

    def explain(self, c, w, idx):
        pairs = ",".join(f"{k}={v}" for k, v in w.demand.selector)
        return [(f"did not match nodeSelector {pairs}", idx, "")]
