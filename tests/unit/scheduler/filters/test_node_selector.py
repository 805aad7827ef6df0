import numpy as np

from orchestra.scheduler.filters.node_selector import NodeSelector

from ..builders import node, state, view, workload


def test_every_pair_must_match():
    c = state([node("a", labels={"zone": "a", "disk": "ssd"}), node("b", labels={"zone": "a"}),
               node("c", labels={"zone": "b", "disk": "ssd"}), node("d")])
    f = NodeSelector()
    w = view(c, workload(node_selector={"zone": "a", "disk": "ssd"}))
    assert f.mask(c, w).tolist() == [True, False, False, False]
    [(reason, idx, _)] = f.explain(c, w, np.array([1, 2, 3]))
    assert reason == "did not match nodeSelector disk=ssd,zone=a"


def test_a_value_no_node_carries_matches_nothing_and_no_selector_does_not_apply():
    c = state([node("a", labels={"zone": "a"})])
    f = NodeSelector()
    assert f.mask(c, view(c, workload(node_selector={"zone": "z"}))).tolist() == [False]
    assert f.mask(c, view(c, workload(node_selector={"rack": "1"}))).tolist() == [False]
    assert not f.applies(view(c, workload()).demand)
