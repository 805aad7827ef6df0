import numpy as np

from orchestra.scheduler.filters.tenant import TenantIsolation

from ..builders import bound, node, state, view, workload


def test_a_node_holding_another_tenant_is_dropped_empty_or_own_tenant_kept():
    c = state([node("a"), node("b"), node("c"), node("d")],
              [bound("x-0", "b", tenant="team-a"), bound("y-0", "c", tenant="team-b"), bound("z-0", "d")])
    f = TenantIsolation()
    w = view(c, workload(tenant="team-a"))
    assert f.mask(c, w).tolist() == [True, True, False, False]
    assert [f.passes(c, w, i) for i in range(4)] == [True, True, False, False]
    out = {reason: c.node_names(idx) for reason, idx, _ in f.explain(c, w, np.array([2, 3]))}
    assert out == {"tenant team-b already on node": ["c"], "tenant (default) already on node": ["d"]}


def test_the_default_tenant_does_not_share_with_named_ones():
    c = state([node("a"), node("b")], [bound("x-0", "a", tenant="team-a")])
    assert TenantIsolation().mask(c, view(c, workload())).tolist() == [False, True]


def test_a_node_frees_up_when_its_last_replica_leaves():
    b = bound("x-0", "a", tenant="team-a")
    c = state([node("a")], [b])
    w = view(c, workload(tenant="team-b"))
    assert not TenantIsolation().passes(c, w, 0)
    c.remove(0, b)
    assert TenantIsolation().passes(c, w, 0)


def test_nodes_shared_before_isolation_are_charged_to_the_first_other_tenant():
    c = state([node("a"), node("b")], [bound("x-0", "a", tenant="t3"), bound("y-0", "a", tenant="t2"),
                                       bound("z-0", "b", tenant="t3")])
    w = view(c, workload(tenant="t1"))
    out = {reason: c.node_names(idx) for reason, idx, _ in TenantIsolation().explain(c, w, np.array([0, 1]))}
    assert out == {"tenant t2 already on node": ["a"], "tenant t3 already on node": ["b"]}
