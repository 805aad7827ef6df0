import numpy as np

from orchestra.scheduler.filters.taints import TaintToleration, tolerates
from orchestra.spec.model import Taint, Toleration

from ..builders import node, state, view, workload

GPU = Taint("dedicated", "gpu")


def test_toleration_matching():
    assert tolerates(Toleration("dedicated", "Equal", "gpu"), GPU)
    assert not tolerates(Toleration("dedicated", "Equal", "db"), GPU)
    assert tolerates(Toleration("dedicated", "Exists"), GPU)
    assert tolerates(Toleration("", "Exists"), GPU)
    assert not tolerates(Toleration("dedicated", "Exists", effect="NoExecute"), GPU)
    assert tolerates(Toleration("dedicated", "Exists", effect="NoSchedule"), GPU)


def test_tainted_nodes_take_only_tolerating_replicas():
    c = state([node("a"), node("b", taints=(GPU,)), node("c", taints=(GPU, Taint("slow")))])
    f = TaintToleration()
    w = view(c, workload())
    assert f.mask(c, w).tolist() == [True, False, False]
    assert f.mask(c, view(c, workload(tolerations=(Toleration("dedicated", "Equal", "gpu"),)))).tolist() == [True, True, False]
    out = {reason: c.node_names(idx) for reason, idx, _ in f.explain(c, w, np.array([1, 2]))}
    assert out == {"untolerated taint dedicated=gpu:NoSchedule": ["b", "c"]}
