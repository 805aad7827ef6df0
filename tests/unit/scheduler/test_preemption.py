from dataclasses import replace
from itertools import combinations

from hypothesis import given
from hypothesis import strategies as st

from orchestra.scheduler import schedule
from orchestra.scheduler.snapshot import PendingReplica, Snapshot
from orchestra.spec.model import Workload

from .builders import GI, bound, node, pending, workload
from .test_properties import SETTINGS, fits_now, scenarios, static_ok


def _run(nodes, pend, held):
    return schedule(Snapshot(tuple(nodes), tuple(held)), pend)


def test_evicts_the_fewest_lowest_priority_replicas_on_one_node():
    nodes = [node("a", cpu=2000), node("b", cpu=2000)]
    held = [bound("x-0", "a", 1000, priority=1), bound("x-1", "a", 1000, priority=1),
            bound("y-0", "b", 1500, priority=2), bound("z-0", "b", 500, priority=1)]
    r = _run(nodes, pending(workload("web", cpu=1500, priority=10)), held)
    assert r.placements == {"web-0": "b"}
    assert [(p.victim, p.node, p.for_replica) for p in r.preemptions] == [("y-0", "b", "web-0")]
    assert r.preemptions[0].reason == "priority 10 > 2; frees cpu/memory"
    assert r.explanations["web-0"].startswith("placed on b by preempting y-0 (lower priority); without preemption 0/2")


def test_prefers_lower_priority_victims_when_counts_tie():
    nodes = [node("a", cpu=1000), node("b", cpu=1000)]
    held = [bound("x-0", "a", 1000, priority=3), bound("y-0", "b", 1000, priority=1)]
    r = _run(nodes, pending(workload(cpu=1000, priority=5)), held)
    assert [p.victim for p in r.preemptions] == ["y-0"]


def test_never_preempts_equal_or_higher_priority():
    held = [bound("x-0", "a", 1000, priority=5)]
    r = _run([node("a", cpu=1000)], pending(workload(cpu=1000, priority=5)), held)
    assert r.placements == {} and r.preemptions == []


def test_only_when_eviction_makes_every_filter_pass():
    # Evicting the low-priority replica on a frees CPU, but a does not match the selector: no preemption.
    held = [bound("x-0", "a", 1000, priority=0)]
    r = _run([node("a", cpu=1000, labels={"zone": "a"})], pending(workload(cpu=1000, priority=9, node_selector={"zone": "b"})), held)
    assert r.placements == {} and r.preemptions == []
    # Tenant isolation: every replica of the other tenant must go, and one of them outranks us.
    held = [bound("x-0", "a", 100, priority=0, tenant="t2"), bound("x-1", "a", 100, priority=9, tenant="t2")]
    r = _run([node("a")], pending(workload(cpu=100, priority=5, tenant="t1")), held)
    assert r.placements == {} and r.preemptions == []


def test_other_tenants_and_port_holders_are_evicted_wholesale():
    held = [bound("x-0", "a", 100, priority=0, tenant="t2"), bound("x-1", "a", 100, priority=1, tenant="t2"),
            bound("p-0", "b", 100, priority=0, tenant="t1", host_ports=(80,)),
            bound("p-1", "b", 100, priority=0, tenant="t1")]
    r = _run([node("a"), node("b")], pending(workload(cpu=100, priority=5, tenant="t1", host_ports=(80,))), held)
    assert r.placements == {"web-0": "b"}
    assert [p.victim for p in r.preemptions] == ["p-0"]


def test_reprieves_victims_that_are_not_needed():
    held = [bound("s-0", "a", 200, priority=0), bound("s-1", "a", 200, priority=0), bound("big-0", "a", 1600, priority=1)]
    r = _run([node("a", cpu=2000, memory=8 * GI)], pending(workload(cpu=1500, priority=5)), held)
    assert [p.victim for p in r.preemptions] == ["big-0"]


def test_fewest_victims_before_lowest_priorities_on_a_node():
    held = [bound("s-0", "a", 600, priority=0), bound("s-1", "a", 500, priority=0), bound("big-0", "a", 1000, priority=1)]
    r = _run([node("a", cpu=2100, memory=8 * GI)], pending(workload(cpu=1000, priority=5)), held)
    assert [p.victim for p in r.preemptions] == ["big-0"]


@SETTINGS
@given(scenarios(), st.integers(0, 4))
def test_a_single_replica_preempts_exactly_the_fewest_victims_any_node_allows(scenario, priority):
    snap, pending_list = scenario
    base = pending_list[0].workload
    w = Workload(base.name, replace(base.spec, priority=priority))
    r = schedule(snap, [PendingReplica(f"{w.name}-0", w)])
    assert len(r.placements) == (_fewest_victims(snap, w) is not None)
    if r.placements:
        assert len(r.preemptions) == _fewest_victims(snap, w)


def _fewest_victims(snap, w):
    """Brute force over every node and every subset of lower-priority replicas of other workloads."""
    fewest = None
    for nd in snap.nodes:
        if not static_ok(nd, w):
            continue
        on = [b for b in snap.bound if b.node == nd.name]
        cands = [b for b in on if b.priority < w.spec.priority and b.workload != w.name]
        for k in range(len(cands) + 1):
            if fewest is not None and k >= fewest:
                break
            if any(fits_now(nd, [b for b in on if b not in g], w) for g in combinations(cands, k)):
                fewest = k
                break
    return fewest
