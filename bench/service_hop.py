"""What the service hop costs, next to connecting container to container directly on the same
nodes; and the requests and failures of a client during a rolling update of 10 replicas.

    python bench/service_hop.py [--requests 300] [--megabytes 64] [--update-replicas 10]

Real processes, the integration tier's harness: a plane, agents inside linked node namespaces,
one dockerd per node. The client runs in node a's network namespace (what a host-networked
container there sees); the server replica runs on node b (busybox httpd). Measured:
- latency: one HTTP/1.0 GET (connect, request, whole answer) to `web`'s virtual address, and
  directly to node b's address and the replica's port;
- throughput: one GET of a big file, both ways;
- a rolling update (maxSurge 1, maxUnavailable 0) of --update-replicas replicas on bridge nodes
  while the client requests as fast as it can: requests and failures.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import EnginePool  # noqa: E402
from harness import Cluster, wait_for  # noqa: E402
from linked_network import LinkedNetwork, _in_netns  # noqa: E402

WEB = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  template:
    image: local/busybox:1
    env: {{VERSION: "{version}"}}
    command: [sh, -c, "mkdir -p /tmp/www && echo $(hostname) $VERSION > /tmp/www/index.html && dd if=/dev/zero of=/tmp/www/big bs=1M count={mb} 2>/dev/null && exec httpd -f -p 8080 -h /tmp/www"]
    readinessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1}}
    resources: {{cpu: 50m, memory: 32Mi}}
    terminationGracePeriodSeconds: 2
  placement: {{nodeSelector: {{role: {role}}}}}
  update: {{maxSurge: 1, maxUnavailable: 0}}
---
apiVersion: orchestra/v1
kind: Service
metadata: {{name: web}}
spec: {{selector: {{app: web}}, ports: [{{port: 80, targetPort: 8080}}]}}
"""


def get(pid: int, host: str, port: int, path: str = "/") -> tuple[float, int]:
    """(seconds, bytes) of one GET made from inside the namespace of `pid`."""
    def run():
        t = time.perf_counter()
        with socket.create_connection((host, port), timeout=10) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: web\r\n\r\n".encode())
            n = 0
            while True:
                chunk = s.recv(262144)
                if not chunk:
                    break
                n += len(chunk)
        return time.perf_counter() - t, n
    return _in_netns(pid, run)


def sock_in(pid: int, host: str, port: int) -> socket.socket:
    return _in_netns(pid, lambda: socket.create_connection((host, port), timeout=10))


def measure(pid: int, host: str, port: int, requests: int) -> list[float]:
    out = []
    for _ in range(requests):
        t, n = get(pid, host, port)
        assert n > 0
        out.append(t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--megabytes", type=int, default=64)
    ap.add_argument("--update-replicas", type=int, default=10)
    args = ap.parse_args()
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="svc-bench-"))
    network = LinkedNetwork()
    engines = EnginePool()
    c = Cluster(workdir=work, engine_factory=engines, network=network)
    try:
        c.start_server()
        c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
        c.add_nodes(1, prefix="b", labels=lambda i: "role=server")
        c.apply(WEB.format(replicas=1, version="v1", role="server", mb=args.megabytes))
        wait_for("the endpoint", lambda: any(e.get("ready") for e in
                                             c.cli_json("describe", "service", "web")["service"].get("endpoints", [])))
        vip = c.cli_json("describe", "service", "web")["service"]["virtual_address"]
        a = c.engines["a-1"].netns_pid
        b_addr = network.addresses[c.engines["b-2"].netns_pid]
        time.sleep(2)
        measure(a, vip, 80, 20)                     # warm up
        hop = measure(a, vip, 80, args.requests)
        direct = measure(a, b_addr, 8080, args.requests)
        big_hop = get(a, vip, 80, "/big")
        big_direct = get(a, b_addr, 8080, "/big")

        def ms(xs):
            return f"median {statistics.median(xs) * 1000:.2f} ms, p95 {sorted(xs)[int(len(xs) * .95)] * 1000:.2f} ms"
        print(f"machine load (1/5/15 min) at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        print(f"GET /, {args.requests} sequential requests from node a to the replica on node b:")
        print(f"  through the service ({vip}:80): {ms(hop)}")
        print(f"  direct ({b_addr}:8080):          {ms(direct)}")
        print(f"  added by the service hop: {(statistics.median(hop) - statistics.median(direct)) * 1000:.2f} ms (median)")
        print(f"GET /big ({args.megabytes} MiB): service {big_hop[1] / big_hop[0] / 2**20:.0f} MiB/s, "
              f"direct {big_direct[1] / big_direct[0] / 2**20:.0f} MiB/s")

        # A rolling update of N replicas on bridge nodes, a client requesting as fast as it can.
        c.cli("delete", "-f", str(next(work.glob("manifest-*.yaml"))))
        c.add_nodes(2, prefix="u", labels=lambda i: "role=update", bridge=True, memory="4Gi")
        n = args.update_replicas
        c.apply(WEB.format(replicas=n, version="v1", role="update", mb=1), "--timeout", "600")
        wait_for(f"{n} endpoints", lambda: sum(1 for e in c.cli_json("describe", "service", "web")["service"]
                                               .get("endpoints", []) if e.get("ready")) == n, timeout=300)
        time.sleep(2)
        counts = {"ok": 0, "failed": 0}
        stop = threading.Event()

        def client():
            while not stop.is_set():
                try:
                    _, got = get(a, vip, 80)
                    counts["ok" if got else "failed"] += 1
                except OSError:
                    counts["failed"] += 1

        t = threading.Thread(target=client)
        t.start()
        started = time.monotonic()
        out = c.apply(WEB.format(replicas=n, version="v2", role="update", mb=1), "--timeout", "900").stdout
        took = time.monotonic() - started
        stop.set()
        t.join()
        revisions = sorted({r["revision"] for r in c.replicas("web")})
        print(out.strip().splitlines()[0], f"-> replicas of revisions {revisions}")
        total = counts["ok"] + counts["failed"]
        print(f"rolling update of {n} replicas (maxSurge 1, maxUnavailable 0): {took:.0f} s, {total} requests "
              f"({total / took:.0f}/s), {counts['failed']} failed")
    finally:
        c.stop()
        network.stop()
        engines.stop()


if __name__ == "__main__":
    main()
