from orchestra.scheduler.scorers.workload_spread import WorkloadSpread

from ..builders import bound, node, state, view, workload


def test_fewest_replicas_of_this_workload_first():
    c = state([node("a"), node("b"), node("c")], [bound("web-0", "a"), bound("web-1", "a"), bound("web-2", "b"),
                                                  bound("db-0", "c")])
    w = view(c, workload("web"))
    s = WorkloadSpread()
    assert s.vector(c, w).tolist() == [100 / 3, 50.0, 100.0]
    assert [s.one(c, w, i) for i in range(3)] == s.vector(c, w).tolist()
