import numpy as np

from orchestra.scheduler.filters.ready import REASON_CORDONED, REASON_NOT_READY, NodeReady

from ..builders import node, state, view, workload


def test_not_ready_and_cordoned_nodes_are_dropped_each_with_its_own_reason():
    c = state([node("a"), node("b", ready=False), node("c", schedulable=False), node("d", ready=False, schedulable=False)])
    w = view(c, workload())
    f = NodeReady()
    assert f.mask(c, w).tolist() == [True, False, False, False]
    reasons = {r: c.node_names(idx) for r, idx, _ in f.explain(c, w, np.array([1, 2, 3]))}
    assert reasons == {REASON_NOT_READY: ["b", "d"], REASON_CORDONED: ["c"]}
