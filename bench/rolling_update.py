"""A rolling update of N replicas with a readiness probe: seconds from apply to complete, and the
lowest Ready count (and highest replica count) seen all along.

    python bench/rolling_update.py [--replicas 10] [--nodes 3] [--surge 1] [--unavailable 0]

Real processes: a control plane, one agent and one dockerd per node (the integration tier's
harness), containers with their own network (bridge) running busybox httpd, probed over HTTP.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import EnginePool  # noqa: E402
from harness import Cluster  # noqa: E402
from test_rollouts import web  # noqa: E402

from orchestra.api import orchestra_pb2 as pb  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--surge", default="1")
    ap.add_argument("--unavailable", default="0")
    args = ap.parse_args()
    engines = EnginePool()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cluster = Cluster(workdir=Path(tmp), engine_factory=engines)
            try:
                cluster.start_server()
                cluster.add_nodes(args.nodes, bridge=True)
                doc = dict(replicas=args.replicas, surge=args.surge, unavailable=args.unavailable)
                cluster.apply(web("v1", **doc), "--timeout", "300")
                api = cluster.api()
                lows, highs, stop = [], [], threading.Event()

                def sample():
                    while not stop.is_set():
                        reps = api.ListReplicas(pb.ListReplicasRequest(workload="web"), timeout=10).replicas
                        lows.append(sum(1 for r in reps if r.ready and r.phase != "Terminating"))
                        highs.append(len(reps))
                        time.sleep(0.05)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                t0 = time.perf_counter()
                cluster.apply(web("v2", **doc), "--timeout", "600")
                elapsed = time.perf_counter() - t0
                stop.set()
                sampler.join(10)
            finally:
                cluster.stop()
    finally:
        engines.stop()
    print(f"rolling update of {args.replicas} replicas over {args.nodes} nodes "
          f"(maxSurge {args.surge}, maxUnavailable {args.unavailable}, readiness probe every 1 s, "
          f"each replica ready about 2 s after it starts)")
    print(f"  apply to complete (new replicas ready, old containers gone): {elapsed:6.1f} s")
    print(f"  lowest ready count seen: {min(lows)} of {args.replicas}; most replicas at once: {max(highs)}; "
          f"{len(lows)} samples")


if __name__ == "__main__":
    main()
