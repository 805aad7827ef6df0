"""Time from a secret's change (`orchestra apply` of the Secret alone) to every replica that uses
it running with the new value, read inside each container, and the least number of ready
replicas seen while it rolls.

    python bench/secret_rotation.py [--runs 3] [--replicas 4] [--nodes 2]

Real processes (the integration tier's harness): dockerd engines in their own network
namespaces, a control plane and agents. The workload reads the secret as a file and as a
variable, has a readiness probe on the file (period 1 s) and rolls with the default budget
(maxSurge 1, maxUnavailable 0). Prints each run and the median.
"""
from __future__ import annotations

import argparse
import base64
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import EnginePool  # noqa: E402
from harness import Cluster  # noqa: E402

SECRET = """\
apiVersion: orchestra/v1
kind: Secret
metadata: {{name: db}}
data: {{password: {value}}}
"""
WORKLOAD = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: app}}
spec:
  replicas: {replicas}
  template:
    image: local/busybox:1
    command: [sleep, "3600"]
    resources: {{cpu: 50m, memory: 16Mi}}
    volumes: [{{name: creds, secret: {{secretName: db}}}}]
    volumeMounts: [{{name: creds, mountPath: /run/secrets/db}}]
    env: {{DB_PASSWORD: {{valueFrom: {{secretKeyRef: {{name: db, key: password}}}}}}}}
    readinessProbe: {{exec: {{command: [cat, /run/secrets/db/password]}}, periodSeconds: 1}}
"""


def secret(value: bytes) -> str:
    return SECRET.format(value=base64.b64encode(value).decode())


def inside(cluster: Cluster, value: bytes) -> int:
    """How many running replicas read `value` from their file."""
    seen = 0
    for node in cluster.agents:
        for c in cluster.containers(node, "app"):
            code, out = c.exec_run(["cat", "/run/secrets/db/password"])
            seen += code == 0 and out == value
    return seen


def one_run(workdir: Path, replicas: int, nodes: int) -> tuple[float, int]:
    pool = EnginePool()
    cluster = Cluster(workdir=workdir, engine_factory=pool)
    try:
        cluster.start_server()
        cluster.add_nodes(nodes)
        old, new = secrets.token_hex(16).encode(), secrets.token_hex(16).encode()
        cluster.apply(secret(old) + "---\n" + WORKLOAD.format(replicas=replicas))
        cluster.wait_running("app", replicas)
        low = [replicas]
        done = threading.Event()

        def sample():
            while not done.is_set():
                ready = sum(1 for r in cluster.replicas("app") if r.get("ready") and r["phase"] == "Running")
                low[0] = min(low[0], ready)
                time.sleep(0.2)
        t = threading.Thread(target=sample, daemon=True)
        t.start()
        t0 = time.perf_counter()
        cluster.apply(secret(new))                # returns once every replica runs the new revision
        took = time.perf_counter() - t0
        done.set()
        t.join(10)
        assert inside(cluster, new) == replicas, "not every replica reads the new value"
        return took, low[0]
    finally:
        cluster.stop()
        pool.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=4)
    ap.add_argument("--nodes", type=int, default=2)
    args = ap.parse_args()
    times = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-rotation-") as d:
            took, low = one_run(Path(d), args.replicas, args.nodes)
        times.append(took)
        print(f"run {i + 1}: {took:.1f} s from the secret's change to {args.replicas} replicas using it "
              f"(at least {low} ready throughout)", flush=True)
    print(f"median: {statistics.median(times):.1f} s ({args.replicas} replicas on {args.nodes} nodes, "
          f"maxSurge 1, readiness period 1 s)")


if __name__ == "__main__":
    main()
