import numpy as np

from orchestra.scheduler.filters.dedicated_tenant import DedicatedTenant

from ..builders import node, state, view, workload


def test_a_dedicated_node_takes_only_its_tenant_and_an_undedicated_node_takes_any():
    c = state([node("a", labels={"orchestra.tenant": "blue"}), node("b", labels={"orchestra.tenant": "red"}),
               node("c")])
    f = DedicatedTenant()
    assert f.mask(c, view(c, workload(tenant="blue"))).tolist() == [True, False, True]
    assert f.mask(c, view(c, workload(tenant="green"))).tolist() == [False, False, True]
    assert f.mask(c, view(c, workload())).tolist() == [False, False, True]


def test_the_explanation_names_the_tenant_each_node_is_dedicated_to():
    c = state([node("a", labels={"orchestra.tenant": "blue"}), node("b", labels={"orchestra.tenant": "red"}),
               node("c", labels={"orchestra.tenant": "red"})])
    f = DedicatedTenant()
    w = view(c, workload())
    found = [(reason, idx.tolist()) for reason, idx, _ in f.explain(c, w, np.array([0, 1, 2]))]
    assert found == [("dedicated to tenant blue", [0]), ("dedicated to tenant red", [1, 2])]
