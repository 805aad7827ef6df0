from orchestra.scheduler.scorers.topology_spread import TopologySpread

from ..builders import bound, node, state, view, workload


def test_zones_with_fewer_replicas_score_higher_and_placing_moves_the_whole_zone():
    c = state([node("a1", labels={"zone": "a"}), node("a2", labels={"zone": "a"}), node("b1", labels={"zone": "b"}),
               node("x")], [bound("web-0", "a1")])
    w = view(c, workload("web", spread_by="zone"))
    s = TopologySpread()
    assert s.vector(c, w).tolist() == [50.0, 50.0, 100.0, 0.0]    # unlabelled: no bonus, still feasible
    w.counts[2] += 1
    assert s.placed(c, w, 2).tolist() == [2]
    assert s.vector(c, w).tolist() == [50.0, 50.0, 50.0, 0.0]
    assert [s.one(c, w, i) for i in range(4)] == s.vector(c, w).tolist()
    w.counts[3] += 1
    assert s.placed(c, w, 3) is None


def test_no_node_carries_the_label():
    c = state([node("a"), node("b")])
    assert TopologySpread().vector(c, view(c, workload(spread_by="zone"))).tolist() == [0.0, 0.0]
