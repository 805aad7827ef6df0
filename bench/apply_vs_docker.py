"""Time from `orchestra apply` to all replicas Running, next to starting the same containers
directly with the Docker SDK in parallel.

    python bench/apply_vs_docker.py [--replicas 30] [--nodes 3]

Real processes: one dockerd per node in its own network namespace, a control plane and one
agent per engine (the integration tier's harness, reused so both measure the same set-up).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import BUSYBOX_IMAGE, import_busybox, start_engine  # noqa: E402
from harness import Cluster, wait_for  # noqa: E402
from test_core import workload  # noqa: E402

from orchestra.api import orchestra_pb2 as pb  # noqa: E402
from orchestra.spec import codec  # noqa: E402
from orchestra.spec.manifest import load_text  # noqa: E402


def direct(engines, replicas: int) -> float:
    """Create and start `replicas` containers spread over the engines, all at once."""
    clients = [e.client() for e in engines]

    def run(i: int):
        c = clients[i % len(clients)]
        return c.containers.run(BUSYBOX_IMAGE, ["sleep", "3600"], detach=True, name=f"direct-{i}",
                                nano_cpus=50_000_000, mem_limit=16 * 1024 * 1024, network_mode="host")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=replicas) as pool:
        started = list(pool.map(run, range(replicas)))
    elapsed = time.perf_counter() - t0
    for c in started:
        c.remove(force=True)
    return elapsed


def orchestrated(engines, replicas: int, workdir: Path) -> float:
    engine_iter = iter(engines)
    cluster = Cluster(workdir=workdir, engine_factory=lambda n, **_: [next(engine_iter) for _ in range(n)])
    try:
        cluster.start_server()
        cluster.add_nodes(len(engines))
        api = cluster.api()
        doc = codec.to_json(load_text(workload(name="bench", replicas=replicas, cpu="50m", memory="16Mi"))[0])
        t0 = time.perf_counter()
        # The plane's API directly (what `orchestra apply` sends), polled every 20 ms: the figure is
        # the cluster's, not a CLI process's start-up.
        api.Apply(pb.ApplyRequest(documents_json=[doc]), timeout=60)
        wait_for("all running", lambda: sum(r.phase == "Running" for r in api.ListReplicas(
            pb.ListReplicasRequest(workload="bench"), timeout=30).replicas) == replicas, timeout=300, every=0.02)
        elapsed = time.perf_counter() - t0
        cluster.cli("delete", "workload", "bench")
        return elapsed
    finally:
        cluster.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=30)
    ap.add_argument("--nodes", type=int, default=3)
    args = ap.parse_args()
    engines = []
    try:
        for _ in range(args.nodes):
            e = start_engine()
            engines.append(e)
            import_busybox(e, BUSYBOX_IMAGE)
        d = direct(engines, args.replicas)
        with tempfile.TemporaryDirectory() as tmp:
            o = orchestrated(engines, args.replicas, Path(tmp))
    finally:
        for e in engines:
            e.stop()
    print(f"{args.replicas} containers over {args.nodes} engines")
    print(f"  docker SDK, {args.replicas} threads in parallel: {d:6.2f} s")
    print(f"  orchestra apply -> all Running:           {o:6.2f} s  ({o / d:.1f}x)")


if __name__ == "__main__":
    main()
