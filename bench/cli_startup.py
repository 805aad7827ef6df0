"""Wall time of the CLI's read commands against a running plane, and what `get nodes` imports.

    python bench/cli_startup.py                      # this checkout, a plane of its own
    python bench/cli_startup.py --tree /other/clone  # another checkout's CLI (e.g. before a change)
    python bench/cli_startup.py --runs 20

It starts `orchestra server` in a temporary data dir (no agents: the workload it applies stays
Pending, so `logs` ends with "not on a node" after its one call, which costs the same start-up),
runs each command --runs times in a fresh interpreter, and prints min / median / mean wall
time next to a bare `python -c pass`, then the top-level imports of `get nodes` by
`python -X importtime`. The goal is at most 0.25 s per read command on the project's 2-core
machine; other work on the machine shows up as spread between min and mean.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = [
    ("get nodes", ["get", "nodes"]),
    ("get replicas", ["get", "replicas"]),
    ("get all -o wide", ["get", "all", "-o", "wide"]),
    ("get workload web -o json", ["get", "workload", "web", "-o", "json"]),
    ("describe workload web", ["describe", "workload", "web"]),
    ("top nodes", ["top", "nodes"]),
    ("events", ["events"]),
    ("logs web (exits 1: no node)", ["logs", "web"]),
]
WORKLOAD = """apiVersion: orchestra/v1
kind: Workload
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  template: {image: local/busybox:1, command: [sleep, "3600"]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_plane(workdir: Path, env: dict) -> tuple[subprocess.Popen, dict]:
    port = free_port()
    data = workdir / "plane"
    proc = subprocess.Popen([sys.executable, "-m", "orchestra.cli.main", "server", "--listen", f"127.0.0.1:{port}",
                             "--data-dir", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    client_env = dict(env, ORCHESTRA_SERVER=f"127.0.0.1:{port}", ORCHESTRA_CONFIG=str(data / "admin.conf"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (data / "admin.conf").exists() and run(["get", "nodes"], client_env).returncode == 0:
            return proc, client_env
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the plane did not answer within 60 s")


def run(args: list[str], env: dict, check: bool = False) -> subprocess.CompletedProcess:
    res = subprocess.run([sys.executable, "-m", "orchestra.cli.main", *args], capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise SystemExit(f"orchestra {' '.join(args)} failed: {res.stderr}")
    return res


def wall(argv: list[str], env: dict, runs: int) -> tuple[list[float], int]:
    """Wall times, and the exit code (a checkout without the command exits 2 at once)."""
    times, rc = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        rc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
        times.append(time.perf_counter() - t0)
    return times, rc


def top_imports(env: dict, limit: int = 12) -> list[tuple[float, str]]:
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "orchestra.cli.main", "get", "nodes"],
                         capture_output=True, text=True, env=env)
    found = []
    for line in res.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        if not name.startswith("  "):            # top level: what the command itself pulled in
            found.append((int(cumulative) / 1000, name.strip()))
    return sorted(found, reverse=True)[:limit]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default=str(REPO), help="checkout whose CLI is measured (default: this one)")
    ap.add_argument("--runs", type=int, default=10)
    opts = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
    env["PYTHONPATH"] = opts.tree
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as tmp:
        env["HOME"] = tmp
        os.chdir(tmp)           # `python -m` puts the working directory first on sys.path
        proc, client_env = start_plane(Path(tmp), env)
        try:
            manifest = Path(tmp) / "web.yaml"
            manifest.write_text(WORKLOAD)
            run(["apply", "-f", str(manifest), "--no-wait"], client_env, check=True)
            print(f"CLI of {opts.tree}, {opts.runs} runs each, load average {os.getloadavg()[0]:.1f}")
            print(f"{'command':<32}{'min':>8}{'median':>8}{'mean':>8}  exit")
            rows = [("python -c pass", [sys.executable, "-c", "pass"])]
            rows += [(name, [sys.executable, "-m", "orchestra.cli.main", *args]) for name, args in COMMANDS]
            for name, argv in rows:
                t, rc = wall(argv, client_env, opts.runs)
                print(f"{name:<32}{min(t):8.3f}{statistics.median(t):8.3f}{statistics.mean(t):8.3f}  {rc}")
            print("\n`get nodes`, top-level imports (cumulative ms, python -X importtime):")
            for ms, name in top_imports(client_env):
                print(f"  {ms:7.1f}  {name}")
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
