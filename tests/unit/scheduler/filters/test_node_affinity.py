import numpy as np

from orchestra.scheduler.filters.node_affinity import NodeAffinity
from orchestra.spec.model import SelectorRequirement as R

from ..builders import node, state, view, workload


def _cluster():
    return state([node("a", labels={"zone": "a", "gpu": "t4"}), node("b", labels={"zone": "b"}),
                  node("c", labels={"zone": "c", "gpu": "a100"}), node("d")])


def test_operators():
    c = _cluster()
    f = NodeAffinity()

    def m(*reqs):
        return f.mask(c, view(c, workload(required=tuple(reqs)))).tolist()

    assert m(R("zone", "In", ("a", "c"))) == [True, False, True, False]
    assert m(R("zone", "NotIn", ("a",))) == [False, True, True, True]   # no label: not in the set
    assert m(R("gpu", "Exists")) == [True, False, True, False]
    assert m(R("gpu", "DoesNotExist")) == [False, True, False, True]
    assert m(R("zone", "In", ("a", "b", "c")), R("gpu", "DoesNotExist")) == [False, True, False, False]
    assert m(R("nope", "In", ("x",))) == [False] * 4


def test_each_rejected_node_is_charged_to_its_first_failing_term():
    c = _cluster()
    w = view(c, workload(required=(R("zone", "In", ("a", "b")), R("gpu", "Exists"))))
    f = NodeAffinity()
    out = {reason: c.node_names(idx) for reason, idx, _ in f.explain(c, w, np.flatnonzero(~f.mask(c, w)))}
    assert out == {"did not match required affinity zone In (a, b)": ["c", "d"],
                   "did not match required affinity gpu Exists": ["b"]}
