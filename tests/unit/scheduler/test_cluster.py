from hypothesis import given

from orchestra.scheduler import ClusterState, schedule, schedule_on
from orchestra.scheduler.cluster import MIXED_TENANTS, NO_TENANT

from .builders import GI, bound, node, state
from .test_properties import SETTINGS, scenarios


def _replicas():
    return [bound("web-0", "a", 500, GI, tenant="t1", host_ports=(80,)), bound("web-1", "b", 250, GI // 2, tenant="t1"),
            bound("db-0", "a", 1000, 2 * GI, tenant="t1"), bound("x-0", "c", 100, GI, tenant="t2"),
            bound("y-0", "c", 100, GI, tenant=""), bound("z-0", "gone", 100, GI)]


def test_bulk_load_equals_adding_one_by_one():
    nodes = [node("c"), node("a"), node("b"), node("d")]
    bulk = state(nodes, _replicas())
    step = state(nodes)
    for b in _replicas():
        if b.node in step.index:
            step.add(step.index[b.node], b)
    assert bulk.names == step.names == ["a", "b", "c", "d"]
    assert bulk.used_cpu.tolist() == step.used_cpu.tolist() == [1500, 250, 200, 0]
    assert bulk.used_mem.tolist() == step.used_mem.tolist()
    assert bulk.node_tenant.tolist() == step.node_tenant.tolist()
    assert bulk.workload_nodes == step.workload_nodes == {"web": {0: 1, 1: 1}, "db": {0: 1}, "x": {2: 1}, "y": {2: 1}}
    assert bulk.ports == step.ports == {(80, "tcp"): {0: [""]}}
    assert bulk.replicas == step.replicas


def test_tenant_column_tracks_adds_and_removes():
    c = state([node("a")])
    t1, t2 = bound("p-0", "a", tenant="t1"), bound("q-0", "a", tenant="t2")
    assert c.node_tenant[0] == NO_TENANT
    c.add(0, t1)
    assert c.node_tenant[0] == c.tenant_codes["t1"]
    c.add(0, t2)
    assert c.node_tenant[0] == MIXED_TENANTS
    c.remove(0, t1)
    assert c.node_tenant[0] == c.tenant_codes["t2"]
    c.remove(0, t2)
    assert c.node_tenant[0] == NO_TENANT and c.workload_nodes == {} and c.used_cpu[0] == 0


def test_labels_become_coded_columns():
    c = state([node("a", labels={"zone": "x"}), node("b"), node("c", labels={"zone": "y"})])
    assert c.label_column("zone").tolist() == [0, -1, 1]
    assert c.label_code("zone", "y") == 1 and c.label_code("zone", "nope") == -2
    assert c.label_column("rack").tolist() == [-1, -1, -1]
    assert c.label_values("zone") == ["x", "y"]


def _held(c):
    """Everything a ClusterState knows about what is bound, comparable between two states."""
    return (c.used_cpu.tolist(), c.used_mem.tolist(), c.min_priority.tolist(),
            [c.tenant_names[t] if t >= 0 else t for t in c.node_tenant.tolist()],
            c.workload_nodes, c.ports, [sorted(r.replica_id for r in rs) for rs in c.replicas])


def test_placing_and_unplacing_equal_a_state_built_from_scratch():
    nodes = [node("c"), node("a"), node("b"), node("d")]
    before, after = _replicas(), _replicas()[2:] + [bound("web-2", "d", 300, GI, tenant="t3", host_ports=(80,))]
    kept = state(nodes, before)
    for b in before[:2]:
        kept.unplace(b)
    kept.place(after[-1])
    assert _held(kept) == _held(state(nodes, after))
    assert "web" in kept.workload_nodes and (80, "tcp") in kept.ports
    kept.unplace(after[-1])         # the last of a workload and of a port: no empty entries are kept
    assert "web" not in kept.workload_nodes and (80, "tcp") not in kept.ports


@SETTINGS
@given(scenarios())
def test_a_run_on_a_kept_state_decides_as_a_fresh_one_and_leaves_it_as_it_was(scenario):
    snap, pend = scenario
    kept = ClusterState(snap)
    untouched = _held(kept)
    fresh = schedule(snap, pend)
    on_kept = schedule_on(kept, pend)
    assert (on_kept.placements, on_kept.explanations, on_kept.preemptions) == (
        fresh.placements, fresh.explanations, fresh.preemptions)
    assert _held(kept) == untouched
