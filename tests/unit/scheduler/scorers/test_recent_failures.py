from orchestra.scheduler.scorers.recent_failures import RecentFailures

from ..builders import node, state, view, workload


def test_small_capped_penalty_only_for_the_failing_workload():
    c = state([node("a", recent_failures={"web": 1}), node("b", recent_failures={"web": 7}), node("c")])
    s = RecentFailures()
    w = view(c, workload("web"))
    assert s.active(c, w)
    assert s.vector(c, w).tolist() == [-10.0, -30.0, 0.0]
    assert not s.active(c, view(c, workload("db")))
