"""Time for a control plane killed with `kill -9` to serve again with 1,000 replicas in its store.

    python bench/plane_restart.py [--replicas 1000] [--runs 5]

A real `orchestra server` process on a real SQLite file. The replicas are applied with no node
to run on (they stay Pending), which is the state the store must load and reconcile on start.
Serving = `orchestra get replicas` answers and lists every replica.
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

from harness import Cluster  # noqa: E402
from test_core import workload  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    per = 100
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(workdir=Path(tmp))
        try:
            cluster.start_server()
            for i in range(args.replicas // per):
                cluster.apply(workload(name=f"w{i}", replicas=per, cpu="10m", memory="6Mi"), "--no-wait")
            assert len(cluster.replicas()) == args.replicas
            times = []
            for run in range(args.runs):
                cluster.server.kill9()
                t0 = time.perf_counter()
                cluster.start_server()
                while len(cluster.replicas()) != args.replicas:
                    time.sleep(0.05)
                times.append(time.perf_counter() - t0)
                print(f"run {run + 1}: serving again after {times[-1]:.2f} s", flush=True)
            print(f"median of {args.runs}: {statistics.median(times):.2f} s with {args.replicas} replicas "
                  f"(includes starting the Python process and one CLI call)")
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()
