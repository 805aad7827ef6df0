"""Label matching over whole node vectors: nodeSelector pairs and In/NotIn/Exists/DoesNotExist terms."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.spec.model import SelectorRequirement


def match_pair(c: ClusterState, key: str, value: str) -> np.ndarray:
    return c.label_column(key) == c.label_code(key, value)


def match_requirement(c: ClusterState, r: SelectorRequirement) -> np.ndarray:
    col = c.label_column(r.key)
    if r.operator == "Exists":
        return col >= 0
    if r.operator == "DoesNotExist":
        return col < 0
    codes = [c.label_code(r.key, v) for v in r.values]
    inside = np.isin(col, [k for k in codes if k >= 0])
    if r.operator == "In":
        return inside
    if r.operator == "NotIn":       # as in Kubernetes: a node without the label is not in the set
        return ~inside
    raise ValueError(f"unknown selector operator {r.operator!r}")


def match_all(c: ClusterState, reqs: Iterable[SelectorRequirement]) -> np.ndarray:
    m = c.all_nodes.copy()
    for r in reqs:
        m &= match_requirement(c, r)
    return m


def describe_requirement(r: SelectorRequirement) -> str:
    if r.operator in ("Exists", "DoesNotExist"):
        return f"{r.key} {r.operator}"
    return f"{r.key} {r.operator} ({', '.join(r.values)})"
