"""Taints and tolerations: a node with a NoSchedule taint takes only replicas that tolerate it."""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Filter
from orchestra.spec.names import taint_text
from orchestra.spec.model import Taint, Toleration

NAME = "taints"


def tolerates(t: Toleration, taint: Taint) -> bool:
    if t.effect and t.effect != taint.effect:
        return False
    if t.operator == "Exists":
        return t.key == "" or t.key == taint.key
    return t.key == taint.key and t.value == taint.value


def first_untolerated(taints, tolerations) -> Taint | None:
    for taint in taints:
        if not any(tolerates(t, taint) for t in tolerations):
            return taint
    return None


def describe(taint: Taint) -> str:
    return taint_text(taint.key, taint.value, taint.effect)


class TaintToleration(Filter):
    name = NAME
    static = True

    def key(self, d):
        return d.placement.tolerations

    def mask(self, c, w):
        m = c.all_nodes.copy()
        tolerations = w.demand.placement.tolerations
        for i in c.tainted:         # few nodes are tainted: look only at those
            if first_untolerated(c.nodes[i].taints, tolerations) is not None:
                m[i] = False
        return m

    def explain(self, c, w, idx):
        groups: dict[str, list[int]] = {}
        for i in idx.tolist():
            taint = first_untolerated(c.nodes[i].taints, w.demand.placement.tolerations)
            groups.setdefault(f"untolerated taint {describe(taint)}", []).append(i)
        return [(reason, np.array(nodes), "") for reason, nodes in groups.items()]
