"""Properties over random clusters and workloads, checked against a plain reference of each rule."""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestra.scheduler import schedule
from orchestra.scheduler.filters import DYNAMIC_FILTERS
from orchestra.scheduler.filters.host_ports import clash
from orchestra.scheduler.filters.taints import tolerates
from orchestra.scheduler.scorers import SCORERS
from orchestra.scheduler.snapshot import BoundReplica, NodeInfo, PendingReplica, Snapshot
from orchestra.spec.model import (Placement, Port, PreferredTerm, Resources, SelectorRequirement, Taint, Template,
                                  Toleration, Workload, WorkloadSpec)

from .builders import state, view

MI = 1 << 20
TENANTS = ("", "t1", "t2")
ZONES = ("a", "b", "c")
TAINTS = (Taint("dedicated", "gpu"), Taint("slow", "yes"))

requests = st.builds(Resources, st.integers(0, 8).map(lambda k: k * 250), st.integers(0, 8).map(lambda k: k * 256 * MI))
ports = st.lists(st.sampled_from([Port(80, 8080), Port(53, 53, "", "udp"), Port(80, 9000, "127.0.0.1")]),
                 max_size=1, unique=True).map(tuple)


@st.composite
def nodes(draw):
    n = draw(st.integers(0, 7))
    out = []
    for i in range(n):
        labels = {}
        if draw(st.booleans()):
            labels["zone"] = draw(st.sampled_from(ZONES))
        if draw(st.booleans()):
            labels["disk"] = "ssd"
        out.append(NodeInfo(
            f"n{i}", Resources(draw(st.integers(0, 8)) * 500, draw(st.integers(0, 8)) * 512 * MI), labels,
            ready=draw(st.booleans().map(lambda b: b or draw(st.booleans()))),
            schedulable=draw(st.integers(0, 5)) > 0,
            taints=tuple(draw(st.lists(st.sampled_from(TAINTS), max_size=1, unique=True))),
            recent_failures=draw(st.sampled_from([{}, {"w0": 1}, {"w1": 5}]))))
    return out


@st.composite
def bound_on(draw, node_list, priorities):
    """Replicas already placed: one tenant per node, within capacity, no port clash (a valid starting state)."""
    out = []
    for nd in node_list:
        tenant = draw(st.sampled_from(TENANTS))
        free = nd.capacity
        used_ports = []
        for k in range(draw(st.integers(0, 3))):
            req = draw(requests)
            if not req.fits_in(free):
                continue
            ps = draw(ports)
            if any(p.host_port == q.host_port and p.protocol == q.protocol for p in ps for q in used_ports):
                ps = ()
            free = free - req
            used_ports.extend(ps)
            out.append(BoundReplica(f"b-{nd.name}-{k}", draw(st.sampled_from(["w0", "old", "w2"])), nd.name, req,
                                    draw(priorities), tenant, ps))
    return out


requirement = st.one_of(
    st.builds(SelectorRequirement, st.just("zone"), st.sampled_from(["In", "NotIn"]),
              st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True).map(tuple)),
    st.builds(SelectorRequirement, st.just("disk"), st.sampled_from(["Exists", "DoesNotExist"])))


@st.composite
def placements(draw):
    return Placement(
        node_selector=draw(st.sampled_from([{}, {}, {"zone": "a"}, {"disk": "ssd"}])),
        required=tuple(draw(st.lists(requirement, max_size=2))),
        preferred=tuple(draw(st.lists(st.builds(PreferredTerm, st.integers(1, 100), st.tuples(requirement)), max_size=2))),
        tolerations=tuple(draw(st.lists(st.sampled_from([Toleration("dedicated", "Equal", "gpu"), Toleration("", "Exists")]),
                                        max_size=1))),
        strategy=draw(st.sampled_from(["", "binpack", "spread"])),
        spread_by=draw(st.sampled_from(["", "zone"])),
        max_per_node=draw(st.integers(0, 2)))


@st.composite
def scenarios(draw, priorities=st.integers(0, 3)):
    node_list = draw(nodes())
    bound = draw(bound_on(node_list, priorities))
    pending = []
    for k in range(draw(st.integers(1, 4))):
        w = Workload(f"w{k}", WorkloadSpec(Template("img", ports=draw(ports), resources=draw(requests)),
                                           tenant=draw(st.sampled_from(TENANTS)), priority=draw(priorities),
                                           placement=draw(placements())))
        pending.extend(PendingReplica(f"w{k}-{i}", w) for i in range(draw(st.integers(1, 4))))
    snap = Snapshot(tuple(node_list), tuple(bound), draw(st.sampled_from(["spread", "binpack"])))
    return snap, pending


# A plain reference of every rule --------------------------------------------------------------
def _label_ok(labels, r: SelectorRequirement) -> bool:
    if r.operator == "Exists":
        return r.key in labels
    if r.operator == "DoesNotExist":
        return r.key not in labels
    inside = labels.get(r.key) in r.values
    return inside if r.operator == "In" else not inside


def static_ok(nd: NodeInfo, w: Workload) -> bool:
    p = w.spec.placement
    return (nd.ready and nd.schedulable
            and all(nd.labels.get(k) == v for k, v in p.node_selector.items())
            and all(_label_ok(nd.labels, r) for r in p.required)
            and all(any(tolerates(t, taint) for t in p.tolerations) for taint in nd.taints))


def fits_now(nd: NodeInfo, on_node: list[BoundReplica], w: Workload) -> bool:
    spec = w.spec
    used = sum((b.requests for b in on_node), Resources())
    mine = [q for q in spec.template.ports if q.host_port]
    return (static_ok(nd, w)
            and spec.template.resources.fits_in(nd.capacity - used)
            and all(b.tenant == spec.tenant for b in on_node)
            and (not spec.placement.max_per_node
                 or sum(b.workload == w.name for b in on_node) < spec.placement.max_per_node)
            and not any(p.host_port == q.host_port and p.protocol == q.protocol and clash(p.host_ip, q.host_ip)
                        for b in on_node for p in b.ports for q in mine))


def final_state(snap: Snapshot, pending, result) -> dict[str, list[BoundReplica]]:
    evicted = {p.victim for p in result.preemptions}
    on = {nd.name: [] for nd in snap.nodes}
    for b in snap.bound:
        if b.replica_id not in evicted and b.node in on:
            on[b.node].append(b)
    for p in pending:
        node = result.placements.get(p.replica_id)
        if node is not None:
            s = p.workload.spec
            on[node].append(BoundReplica(p.replica_id, p.workload.name, node, s.template.resources, s.priority,
                                         s.tenant, s.template.ports))
    return on


# More examples for a deeper run: ORCHESTRA_PROPERTY_EXAMPLES=3000 pytest tests/unit/scheduler/test_properties.py
SETTINGS = settings(max_examples=int(os.environ.get("ORCHESTRA_PROPERTY_EXAMPLES", "100")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_every_hard_constraint_holds_and_no_node_is_overcommitted(scenario):
    snap, pending = scenario
    result = schedule(snap, pending)
    assert set(result.explanations) == {p.replica_id for p in pending} == set(result.details)
    nodes_by_name = {nd.name: nd for nd in snap.nodes}
    on = final_state(snap, pending, result)
    by_id = {p.replica_id: p for p in pending}
    prio = {b.replica_id: b.priority for b in snap.bound}
    for p in result.preemptions:
        assert prio[p.victim] < by_id[p.for_replica].workload.spec.priority
        assert result.placements[p.for_replica] == p.node
    for rid, node in result.placements.items():
        nd, w = nodes_by_name[node], by_id[rid].workload
        others = [b for b in on[node] if b.replica_id != rid]
        assert fits_now(nd, others, w), (rid, node, result.explanations[rid])
    touched = set(result.placements.values())
    for node in touched:
        used = sum((b.requests for b in on[node]), Resources())
        assert used.fits_in(nodes_by_name[node].capacity)


@SETTINGS
@given(scenarios())
def test_same_input_same_output(scenario):
    snap, pending = scenario
    a, b = schedule(snap, pending), schedule(snap, pending)
    assert (a.placements, a.explanations, a.preemptions) == (b.placements, b.explanations, b.preemptions)


@SETTINGS
@given(scenarios(priorities=st.just(0)))
def test_unplaceable_only_when_no_node_passes_every_filter(scenario):
    # Without preemption a pass only adds replicas, so a node that passes now passed then as well.
    snap, pending = scenario
    result = schedule(snap, pending)
    assert not result.preemptions
    on = final_state(snap, pending, result)
    for p in pending:
        if p.replica_id not in result.placements:
            assert not any(fits_now(nd, on[nd.name], p.workload) for nd in snap.nodes), result.explanations[p.replica_id]
            assert result.explanations[p.replica_id].startswith(f"0/{len(snap.nodes)} nodes fit")
            counted = sum(r.count for r in result.details[p.replica_id].rejections)
            assert counted == len(snap.nodes)      # every node is charged to exactly one reason


@SETTINGS
@given(scenarios())
def test_whole_vector_and_one_node_answers_agree(scenario):
    snap, pending = scenario
    c = state(snap.nodes, snap.bound, snap.default_strategy)
    for p in pending:
        w = view(c, p.workload)
        for f in DYNAMIC_FILTERS:
            if f.applies(w.demand):
                assert f.mask(c, w).tolist() == [bool(f.passes(c, w, i)) for i in range(c.size)]
        for s, _ in SCORERS:
            if s.active(c, w):
                assert s.vector(c, w).tolist() == [float(s.one(c, w, i)) for i in range(c.size)]
