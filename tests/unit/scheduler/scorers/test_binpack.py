from orchestra.scheduler.scorers.binpack import BinPack

from ..builders import GI, bound, node, state, view, workload


def test_fuller_nodes_score_higher_and_vector_matches_one():
    c = state([node("a", cpu=1000, memory=4 * GI), node("b", cpu=1000, memory=4 * GI)], [bound("x-0", "b", 500, 2 * GI)])
    w = view(c, workload(cpu=250, memory=GI, strategy="binpack"))
    s = BinPack()
    v = s.vector(c, w)
    assert v[1] > v[0]
    assert v[0] == 25.0 and v[1] == 75.0
    assert [s.one(c, w, i) for i in range(2)] == v.tolist()
    assert s.applies(w.demand) and not s.applies(view(c, workload()).demand)
