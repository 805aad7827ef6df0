import numpy as np

from orchestra.scheduler.filters.fit import REASON_BOTH, REASON_CPU, REASON_MEMORY, ResourcesFit

from ..builders import GI, MI, bound, node, state, view, workload


def test_allocated_is_the_sum_of_bound_requests():
    c = state([node("a", cpu=1000, memory=2 * GI)], [bound("x-0", "a", 600, GI), bound("y-0", "a", 300, GI // 2)])
    f = ResourcesFit()
    assert f.mask(c, view(c, workload(cpu=100, memory=GI // 2))).tolist() == [True]
    assert f.mask(c, view(c, workload(cpu=101, memory=GI // 2))).tolist() == [False]
    assert f.mask(c, view(c, workload(cpu=100, memory=GI // 2 + 1))).tolist() == [False]


def test_vector_and_one_node_answers_agree():
    c = state([node(f"n{i}", cpu=500 * i, memory=GI * i) for i in range(6)])
    w = view(c, workload(cpu=1000, memory=2 * GI))
    f = ResourcesFit()
    assert f.mask(c, w).tolist() == [f.passes(c, w, i) for i in range(6)]


def test_explain_splits_cpu_memory_and_both_with_the_closest_miss():
    c = state([node("a", cpu=4000, memory=GI), node("b", cpu=4000, memory=GI + 512 * MI),
               node("c", cpu=100, memory=8 * GI), node("d", cpu=100, memory=MI)])
    w = view(c, workload(cpu=1000, memory=2 * GI))
    out = {reason: (c.node_names(idx), detail) for reason, idx, detail in ResourcesFit().explain(c, w, np.arange(4))}
    assert out[REASON_MEMORY] == (["a", "b"], "needs 2Gi; most free 1536Mi on b")
    assert out[REASON_CPU] == (["c"], "needs 1; most free 100m on c")
    assert out[REASON_BOTH][0] == ["d"]
