"""Volume data: a replica whose volumes hold data on a node goes to that node or nowhere (when the
node is lost it stays Pending; `orchestra move` lets it go, leaving the data behind)."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter

NAME = "volume-node"


class VolumeNode(Filter):
    name = NAME
    static = True

    def applies(self, d):
        return bool(d.volume_node)

    def key(self, d):
        return d.volume_node

    def mask(self, c, w):
        m = c.no_nodes.copy()
        i = c.index.get(w.demand.volume_node)
        if i is not None:
            m[i] = True
        return m

    def explain(self, c, w, idx):
        return [(w.demand.volume_why or f"volume data is on {w.demand.volume_node}", idx, "")]
