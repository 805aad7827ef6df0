"""Time to scrape the plane's Prometheus metrics with N replicas in its store.

    python bench/metrics_scrape.py [--replicas 1000] [--nodes 50] [--workloads 20] [--scrapes 30]

The plane's own code over a real SQLite file: N replicas of W workloads bound to nodes whose
sessions report them Running (the plane unit tests' in-process agents, tests/unit/server/
plane_fixtures.py: no containers are needed to fill the store). Then GET /metrics over HTTP from
the real endpoint (`--metrics-listen`'s), S times: the collector reads the store at every scrape.
Prints the median and the 95th percentile of the wall time, the CPU time per scrape (the machine
is shared), the size of the exposition and its number of series.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "unit" / "server")]

from plane_fixtures import Agents, Clock, workload_json  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from orchestra.metrics_endpoint import serve  # noqa: E402
from orchestra.server.metrics import registry_of  # noqa: E402
from orchestra.server.plane import Plane  # noqa: E402
from orchestra.store import SqliteStore  # noqa: E402
from tests.support.ports import free_port  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=1000)
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--workloads", type=int, default=20)
    ap.add_argument("--scrapes", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clock = Clock()
        store = SqliteStore(str(Path(tmp) / "state.db"))
        plane = Plane(store, clock_ms=clock)
        agents = Agents(plane)
        t0 = time.perf_counter()
        for i in range(args.nodes):
            agents.join(f"vm-{i}", cpu=64_000, memory=256 << 30)
        per, extra = divmod(args.replicas, args.workloads)
        for i in range(args.workloads):
            plane.service.apply([workload_json(f"w{i}", replicas=per + (1 if i < extra else 0), cpu="10m",
                                               memory="8Mi")])
        agents.settle(clock, rounds=3)
        running = sum(1 for r in store.list_replicas() if r.phase == "Running")
        print(f"store: {args.nodes} nodes, {args.workloads} workloads, {len(store.list_replicas())} replicas "
              f"({running} Running), filled in {time.perf_counter() - t0:.1f} s")

        server, url = serve(registry_of(plane), f"127.0.0.1:{free_port()}")
        walls, cpus, size, series = [], [], 0, 0
        try:
            for i in range(args.scrapes + 1):
                w0, c0 = time.perf_counter(), time.process_time()
                with urllib.request.urlopen(url, timeout=60) as resp:
                    body = resp.read()
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                if i == 0:      # the first one also parses every workload's manifest once (then cached)
                    print(f"first scrape: {wall * 1000:.1f} ms")
                    text = body.decode()
                    size = len(body)
                    series = sum(len(f.samples) for f in text_string_to_metric_families(text))
                    continue
                walls.append(wall)
                cpus.append(cpu)
        finally:
            server.shutdown()
            store.close()
    walls.sort()
    p95 = walls[min(len(walls) - 1, int(round(0.95 * (len(walls) - 1))))]
    print(f"GET /metrics x{args.scrapes}: median {statistics.median(walls) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
          f"wall; {statistics.median(cpus) * 1000:.1f} ms CPU (collector, exposition and HTTP, in this process)")
    print(f"exposition: {size / 1024:.0f} KiB, {series} samples")


if __name__ == "__main__":
    main()
