import numpy as np

from orchestra.scheduler.filters.max_per_node import MaxPerNode

from ..builders import bound, node, state, view, workload


def test_at_most_n_replicas_of_the_workload_per_node():
    c = state([node("a"), node("b")], [bound("web-0", "a"), bound("web-1", "a"), bound("db-0", "b")])
    f = MaxPerNode()
    w = view(c, workload("web", max_per_node=2))
    assert f.mask(c, w).tolist() == [False, True]
    assert [f.passes(c, w, i) for i in range(2)] == [False, True]
    assert f.explain(c, w, np.array([0]))[0][0] == "maxPerNode 2 reached"
    assert not f.applies(view(c, workload("web")).demand)
