from orchestra.scheduler.scorers.spread import Spread

from ..builders import GI, bound, node, state, view, workload


def test_emptier_nodes_score_higher_and_vector_matches_one():
    c = state([node("a", cpu=1000, memory=4 * GI), node("b", cpu=1000, memory=4 * GI)], [bound("x-0", "b", 500, 2 * GI)])
    w = view(c, workload(cpu=250, memory=GI))
    s = Spread()
    v = s.vector(c, w)
    assert v[0] == 75.0 and v[1] == 25.0
    assert [s.one(c, w, i) for i in range(2)] == v.tolist()
    assert s.applies(w.demand)          # the cluster default here
    assert not s.applies(view(c, workload(strategy="binpack")).demand)
