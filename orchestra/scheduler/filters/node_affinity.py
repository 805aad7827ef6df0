"""Required node affinity: every In/NotIn/Exists/DoesNotExist term must hold."""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter
from orchestra.scheduler.selectors import describe_requirement, match_all, match_requirement

NAME = "node-affinity"


class NodeAffinity(Filter):
    name = NAME
    static = True

    def applies(self, d):
        return bool(d.placement.required)

    def key(self, d):
        return d.placement.required

    def mask(self, c, w):
        return match_all(c, w.demand.placement.required)

    def explain(self, c, w, idx):
        # Each node is charged to the first term it fails.
        out = []
        left = idx
        for r in w.demand.placement.required:
            ok = match_requirement(c, r)[left]
            if (~ok).any():
                out.append((f"did not match required affinity {describe_requirement(r)}", left[~ok], ""))
            left = left[ok]
        return out
