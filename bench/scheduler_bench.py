"""Scheduler benchmark on a simulated in-memory cluster (no processes, no I/O).

    python bench/scheduler_bench.py                    # 1,000 nodes/10,000 replicas, then 5,000/50,000
    python bench/scheduler_bench.py --nodes 5000 --replicas 50000 --profile
    python bench/scheduler_bench.py --images 30         # nodes report 30 images each (2% lack the workloads')

Workloads have 1..19 replicas with mixed CPU/memory requests; a quarter carry a nodeSelector,
required or preferred affinity or a zone spread; a few have a tenant, host ports or maxPerNode.
Reports placements per second for one `schedule()` pass, p50/p99 time per placement (a
workload's time shared by its replicas, as the pipeline works per workload), and the latency
of placing one more single-replica workload into the full cluster.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestra.scheduler import schedule  # noqa: E402
from orchestra.scheduler.cluster import ClusterState  # noqa: E402
from orchestra.scheduler.demand import Demand  # noqa: E402
from orchestra.scheduler.pipeline import Pipeline  # noqa: E402
from orchestra.scheduler.result import ScheduleResult  # noqa: E402
from orchestra.scheduler.snapshot import NodeInfo, PendingReplica, Snapshot  # noqa: E402
from orchestra.spec.model import (Placement, Port, PreferredTerm, Resources, SelectorRequirement, Taint,  # noqa: E402
                                  Template, Toleration, Workload, WorkloadSpec)

MI = 1 << 20
GI = 1 << 30
ZONES = [f"zone-{z}" for z in "abcde"]


def cluster(n_nodes: int, rng: random.Random, images: int = 0) -> tuple[NodeInfo, ...]:
    """`images` > 0: each node reports that many images (the image filter then checks every node);
    0: none reported, as nodes of agents that do not report (the filter costs nothing)."""
    nodes = []
    filler = [f"local/lib{k}:1" for k in range(max(0, images - 2))]
    for i in range(n_nodes):
        held = None
        if images:
            held = frozenset(filler + ["x:latest"] + (["local/app:1"] if rng.random() > 0.02 else []))
        size = rng.choice((1, 2, 2, 4))
        taints = (Taint("dedicated", "gpu"),) if rng.random() < 0.03 else ()
        nodes.append(NodeInfo(
            f"vm-{i}", Resources(4000 * size, 8 * GI * size),
            labels={"zone": rng.choice(ZONES), "disk": rng.choice(("ssd", "hdd")), "rack": f"r{i % 50}"},
            ready=rng.random() > 0.005, schedulable=rng.random() > 0.005, taints=taints, images=held))
    return tuple(nodes)


def placement(rng: random.Random) -> Placement:
    kind = rng.randrange(5)
    if kind == 0:
        return Placement(node_selector={"disk": "ssd"})
    if kind == 1:
        return Placement(spread_by="zone")
    if kind == 2:
        return Placement(required=(SelectorRequirement("zone", "In", tuple(rng.sample(ZONES, 2))),))
    if kind == 3:
        return Placement(preferred=(PreferredTerm(50, (SelectorRequirement("disk", "In", ("ssd",)),)),),
                         strategy="binpack")
    return Placement(node_selector={"zone": rng.choice(ZONES)}, max_per_node=2,
                     tolerations=(Toleration("dedicated", "Exists"),))


def workloads(n_replicas: int, rng: random.Random) -> list[PendingReplica]:
    pending: list[PendingReplica] = []
    k = 0
    while len(pending) < n_replicas:
        count = min(rng.randrange(1, 20), n_replicas - len(pending))
        fancy = rng.random() < 0.25
        ports = (Port(8080, 18000 + k % 50),) if rng.random() < 0.02 else ()
        spec = WorkloadSpec(
            Template("local/app:1", ports=ports,
                     resources=Resources(rng.choice((100, 250, 500, 1000)), rng.choice((128, 256, 512, 1024, 2048)) * MI)),
            replicas=count, tenant="team-x" if rng.random() < 0.02 else "",
            placement=placement(rng) if fancy else Placement())
        w = Workload(f"w{k}", spec)
        pending.extend(PendingReplica(f"w{k}-{i}", w) for i in range(count))
        k += 1
    return pending


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(n_nodes: int, n_replicas: int, seed: int, profile: bool, images: int = 0) -> None:
    rng = random.Random(seed)
    snap = Snapshot(cluster(n_nodes, rng, images))
    pending = workloads(n_replicas, rng)
    print(f"== {n_nodes} nodes, {len(pending)} pending replicas in {len({p.workload.name for p in pending})} workloads"
          + (f", {images} images per node" if images else ""))

    t0, cpu0 = time.perf_counter(), time.process_time()
    if profile:
        prof = cProfile.Profile()
        result = prof.runcall(schedule, snap, pending)
    else:
        result = schedule(snap, pending)
    total, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    placed = len(result.placements)
    assert len(result.explanations) == len(pending)
    # CPU time too: on a shared machine wall time includes waiting for a core.
    print(f"schedule(): {total:.2f}s wall, {cpu:.2f}s cpu for {len(pending)} replicas ({placed} placed, "
          f"{len(pending) - placed} explained unplaceable): {len(pending) / total:,.0f} placements/s wall, "
          f"{len(pending) / cpu:,.0f} per cpu-second")
    if profile:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return

    # Per workload, on a fresh copy: where the pass spends its time.
    t0 = time.perf_counter()
    c = ClusterState(snap)
    build = time.perf_counter() - t0
    pipe = Pipeline(c)
    groups: dict[str, list[PendingReplica]] = {}
    for p in pending:
        groups.setdefault(p.workload.name, []).append(p)
    per_placement: list[float] = []
    per_placement_cpu: list[float] = []
    out = ScheduleResult()
    for members in groups.values():
        d = Demand.of(members[0].workload, c.default_strategy)
        t0, cpu0 = time.perf_counter(), time.process_time()
        pipe.place_workload(d, [p.replica_id for p in members], out)
        dt, dcpu = time.perf_counter() - t0, time.process_time() - cpu0
        per_placement.extend([dt / len(members)] * len(members))
        per_placement_cpu.extend([dcpu / len(members)] * len(members))
    print(f"index build {build * 1e3:.0f} ms; per placement (a workload's time / its replicas): "
          f"wall p50 {pct(per_placement, .5) * 1e6:.0f} us, p99 {pct(per_placement, .99) * 1e6:.0f} us; "
          f"cpu p50 {pct(per_placement_cpu, .5) * 1e6:.0f} us, p99 {pct(per_placement_cpu, .99) * 1e6:.0f} us")

    # One more single-replica workload into the full cluster: the whole per-workload setup for one replica.
    single, single_cpu = [], []
    for k in range(300):
        w = Workload(f"late{k}", WorkloadSpec(Template("x", resources=Resources(250, 256 * MI)),
                                               placement=placement(rng) if k % 4 == 0 else Placement()))
        t0, cpu0 = time.perf_counter(), time.process_time()
        pipe.place_workload(Demand.of(w, c.default_strategy), [f"late{k}-0"], out)
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.process_time() - cpu0)
    print(f"one single-replica workload into the full cluster: wall p50 {pct(single, .5) * 1e6:.0f} us, "
          f"p99 {pct(single, .99) * 1e6:.0f} us; cpu p50 {pct(single_cpu, .5) * 1e6:.0f} us, "
          f"p99 {pct(single_cpu, .99) * 1e6:.0f} us")
    # A control-plane pass in steady state: index the full cluster (everything above now bound), place one replica.
    full = Snapshot(snap.nodes, tuple(b for node_replicas in c.replicas for b in node_replicas))
    w = Workload("one-more", WorkloadSpec(Template("x", resources=Resources(250, 256 * MI))))
    t0, cpu0 = time.perf_counter(), time.process_time()
    schedule(full, [PendingReplica("one-more-0", w)])
    print(f"schedule() of one replica with {len(full.bound)} bound replicas to index: "
          f"{(time.perf_counter() - t0) * 1e3:.0f} ms wall, {(time.process_time() - cpu0) * 1e3:.0f} ms cpu")
    some = [r for r in pending if r.replica_id not in result.placements][:1] + pending[:1]
    for p in some:
        print(f"  e.g. {p.replica_id}: {result.explanations[p.replica_id]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--replicas", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", action="store_true", help="cProfile the schedule() pass, print the top entries")
    ap.add_argument("--images", type=int, default=0, metavar="N", help="images each node reports (default: none)")
    a = ap.parse_args()
    sizes = [(a.nodes, a.replicas or a.nodes * 10)] if a.nodes else [(1000, 10000), (5000, 50000)]
    for n, r in sizes:
        run(n, r, a.seed, a.profile, a.images)


if __name__ == "__main__":
    main()
