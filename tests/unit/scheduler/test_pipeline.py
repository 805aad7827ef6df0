from orchestra.scheduler import schedule
from orchestra.scheduler.snapshot import Snapshot
from orchestra.spec.model import Taint, Toleration

from .builders import GI, MI, bound, node, pending, workload


def _run(nodes, pend, bound_replicas=(), strategy="spread"):
    return schedule(Snapshot(tuple(nodes), tuple(bound_replicas), strategy), pend)


def test_replicas_placed_in_one_pass_see_each_other():
    r = _run([node("a", cpu=1000, memory=GI), node("b", cpu=1000, memory=GI)], pending(workload(cpu=600, memory=MI), 3))
    assert sorted(r.placements.values()) == ["a", "b"]
    assert r.explanations["web-2"] == "0/2 nodes fit: 2 insufficient cpu (needs 600m; most free 400m on a)"


def test_spread_evens_out_and_binpack_fills_up():
    nodes = [node("a"), node("b"), node("c")]
    spread = _run(nodes, pending(workload(cpu=100, memory=MI), 3))
    assert sorted(spread.placements.values()) == ["a", "b", "c"]
    packed = _run(nodes, pending(workload(cpu=100, memory=MI, strategy="binpack"), 2),
                  [bound("db-0", "b", 2000, 4 * GI)])
    assert packed.placements == {"web-0": "b", "web-1": "b"}    # the busiest node, while it is the fullest


def test_cluster_default_strategy_applies_when_the_workload_names_none():
    nodes = [node("a"), node("b")]
    r = _run(nodes, pending(workload(cpu=100, memory=MI)), [bound("db-0", "b", 2000, 4 * GI)], strategy="binpack")
    assert r.placements["web-0"] == "b"


def test_ties_go_to_the_lowest_node_name():
    r = _run([node("c"), node("a"), node("b")], pending(workload()))
    assert r.placements["web-0"] == "a"


def test_hard_constraints_together_and_the_unplaceable_line():
    nodes = [node(f"vm-{i}", memory=2 * GI, labels={"zone": "a" if i <= 8 else "b"}) for i in range(1, 11)]
    nodes[0] = node("vm-1", memory=2 * GI, labels={"zone": "a"}, taints=(Taint("dedicated", "gpu"),))
    held = [bound(f"x-{i}", f"vm-{i}", memory=GI + GI // 2, tenant="team-b") for i in range(2, 5)]
    held += [bound(f"y-{i}", f"vm-{i}", memory=GI // 2, tenant="team-a") for i in range(5, 9)]
    r = _run(nodes, pending(workload(memory=2 * GI, tenant="team-a", node_selector={"zone": "a"})), held)
    assert "web-0" not in r.placements
    assert r.explanations["web-0"] == (
        "0/10 nodes fit: 4 insufficient memory (needs 2Gi; most free 1536Mi on vm-5), 3 tenant team-b already on node"
        " (vm-2..vm-4), 2 did not match nodeSelector zone=a (vm-9, vm-10), 1 untolerated taint dedicated=gpu:NoSchedule"
        " (vm-1)")
    d = r.details["web-0"]
    assert [x.count for x in d.rejections] == [4, 3, 2, 1]
    assert list(d.rejections[0].nodes) == ["vm-5", "vm-6", "vm-7", "vm-8"]
    tolerant = workload(memory=GI, tenant="team-a", tolerations=(Toleration("dedicated", "Exists"),),
                        node_selector={"zone": "a"})
    assert _run(nodes, pending(tolerant), held).placements["web-0"] == "vm-1"


def test_not_ready_and_cordoned_nodes_get_nothing():
    r = _run([node("a", ready=False), node("b", schedulable=False)], pending(workload()))
    assert r.explanations["web-0"] == "0/2 nodes fit: 1 node cordoned (b), 1 node not ready (a)"


def test_max_per_node_and_workload_spread():
    r = _run([node("a"), node("b")], pending(workload(cpu=10, memory=MI, max_per_node=2), 5))
    assert sorted(r.placements.values()) == ["a", "a", "b", "b"]
    assert r.explanations["web-4"].startswith("0/2 nodes fit: 2 maxPerNode 2 reached")


def test_zone_spread_reaches_every_zone_first():
    nodes = [node(f"{z}{i}", labels={"zone": z}) for z in "abc" for i in range(3)]
    r = _run(nodes, pending(workload(cpu=10, memory=MI, spread_by="zone"), 6))
    zones = [r.placements[f"web-{i}"][0] for i in range(6)]
    assert sorted(zones[:3]) == ["a", "b", "c"] and sorted(zones[3:]) == ["a", "b", "c"]


def test_recent_failure_steers_away_when_all_else_is_equal():
    r = _run([node("a", recent_failures={"web": 1}), node("b")], pending(workload()))
    assert r.placements["web-0"] == "b"


def test_placed_replicas_explain_their_scores():
    r = _run([node("a"), node("b"), node("c")], pending(workload(cpu=100, memory=MI), 1))
    line = r.explanations["web-0"]
    assert line.startswith("placed on a: score ") and "3/3 nodes fit" in line and "next b " in line
    top = r.details["web-0"].top
    assert [s.node for s in top] == ["a", "b", "c"]
    assert dict(top[0].parts).keys() == {"spread", "workload-spread"}


def test_host_ports_are_taken_by_replicas_placed_in_the_same_pass():
    r = _run([node("a"), node("b")], pending(workload(host_ports=(8080,)), 3))
    assert sorted(r.placements.values()) == ["a", "b"]
    assert r.explanations["web-2"] == "0/2 nodes fit: 2 host port 8080/tcp in use (a, b)"


def test_empty_cluster_and_unknown_bound_nodes():
    assert _run([], pending(workload())).explanations["web-0"] == "0/0 nodes fit"
    r = _run([node("a", cpu=1000)], pending(workload(cpu=1000)), [bound("x-0", "gone", 1000)])
    assert r.placements["web-0"] == "a"


def test_higher_priority_workloads_are_placed_first():
    low = workload("low", cpu=1000, priority=1)
    high = workload("high", cpu=1000, priority=5)
    r = _run([node("a", cpu=1000)], pending(low) + pending(high))
    assert r.placements == {"high-0": "a"}
