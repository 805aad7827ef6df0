"""Time from `kill -9` of an agent (and the loss of its engine: the machine is gone) to all of
its replicas Running on other nodes, with the plane's default settings (heartbeat 2 s,
node grace 10 s).

    python bench/failover.py [--runs 5] [--replicas 6]

Real processes: three dockerd engines in their own network namespaces, a control plane and
three agents (the integration tier's harness). Prints each run and the median.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import EnginePool  # noqa: E402
from harness import Cluster, wait_for  # noqa: E402
from test_core import workload  # noqa: E402


def one_run(workdir: Path, replicas: int) -> float:
    pool = EnginePool()
    cluster = Cluster(workdir=workdir, engine_factory=pool, node_grace_s=10.0, heartbeat_s=2.0)
    try:
        cluster.start_server()
        cluster.add_nodes(3)
        cluster.apply(workload(name="fo", replicas=replicas, cpu="50m", memory="16Mi"))
        before = {r["id"]: r["node"] for r in cluster.wait_running("fo", replicas)}
        lost = [rid for rid, node in before.items() if node == "node-3"]

        t0 = time.perf_counter()
        cluster.agents["node-3"].kill9()
        cluster.engines["node-3"].stop()

        def moved():
            reps = {r["id"]: r for r in cluster.replicas("fo")}
            return all(reps[rid]["node"] != "node-3" and reps[rid]["phase"] == "Running" for rid in lost)
        wait_for("replicas moved", moved, timeout=120, every=0.2)
        return time.perf_counter() - t0
    finally:
        cluster.stop()
        pool.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--replicas", type=int, default=6)
    args = ap.parse_args()
    times = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            t = one_run(Path(tmp), args.replicas)
        times.append(t)
        print(f"run {i + 1}: {t:.1f} s from kill -9 to all lost replicas Running elsewhere", flush=True)
    print(f"median of {args.runs}: {statistics.median(times):.1f} s (heartbeat 2 s, grace 10 s)")


if __name__ == "__main__":
    main()
