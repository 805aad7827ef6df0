"""The control plane at scale: a real `orchestra server` process (SQLite, or etcd with
--store etcd) and N simulated agents (bench/simulated_agents.py: the real AgentLink protocol
over real gRPC with mutual TLS, a fake runtime, many nodes per process on asyncio, several
processes), driven through the real user API by concurrent clients.

    python bench/plane_scale.py                      # 1,000 agents, every scenario, SQLite
    python bench/plane_scale.py --agents 100
    python bench/plane_scale.py --quick              # 50 agents, small numbers: a smoke run
    python bench/plane_scale.py --scenario bulk --store etcd
    python bench/plane_scale.py --profile idle,single    # py-spy on the plane during those scenarios

Scenarios, in this order (each starts from what the previous left):
  idle     every agent connected and Ready: plane CPU % of one core, threads, RSS
  single   --single N single-replica workloads, one per Apply, by --clients concurrent clients:
           workloads/s, Apply p50/p99, time until the agents report every replica Running
  bulk     --bulk WxR: W workloads of R replicas: time from the first Apply until the agents
           report all W*R Running (replicas/s), Apply p50/p99
  heal     --lose N nodes (at most half of them) vanish at once (stream cut, no goodbye): time until every replica they
           held runs elsewhere (as the agents report, and then as ListReplicas shows it), and until
           the plane saw them NotReady (ListNodes every 0.5 s)
During single and bulk a prober calls ListNodes, ListReplicas and DescribeWorkload in a loop:
their p50/p99 is the user API under that load. After each scenario: plane CPU seconds, RSS and
threads. Every wait is bounded (--timeout): a scenario that does not finish says how far it got.

Needs root only for --profile (py-spy attaches to the plane; `pip install py-spy==0.3.14`:
0.4.3 fails here with "Failed to find python version from target process").
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

import grpc  # noqa: E402
import psutil  # noqa: E402

from orchestra import transport  # noqa: E402
from orchestra.api import orchestra_pb2 as pb  # noqa: E402
from orchestra.api import orchestra_pb2_grpc  # noqa: E402
from orchestra.security.client_config import load_client_config  # noqa: E402
from orchestra.spec.manifest import parse_document  # noqa: E402
from orchestra.spec.model import workload_to_dict  # noqa: E402

LISTENING = re.compile(r"orchestra server listening on (\S+)")
SIMULATOR = Path(__file__).resolve().parent / "simulated_agents.py"
CALL_TIMEOUT_S = 120.0


def say(text: str) -> None:
    print(text, flush=True)


def pct(values: list[float]) -> str:
    if not values:
        return "n/a"
    v = sorted(values)
    p = lambda q: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
    return f"p50 {p(0.50) * 1000:.0f} ms, p99 {p(0.99) * 1000:.0f} ms, max {v[-1] * 1000:.0f} ms (n={len(v)})"


# -- the plane ------------------------------------------------------------------------------------
class Plane:
    def __init__(self, workdir: Path, store_args: list[str], node_grace: str, heartbeat: str = ""):
        self.data_dir = workdir / "plane"
        cmd = [sys.executable, "-m", "orchestra.server", "--listen", "127.0.0.1:0", "--data-dir", str(self.data_dir),
               "--node-grace", node_grace, *(["--heartbeat-interval", heartbeat] if heartbeat else []), *store_args]
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.log = open(workdir / "plane.log", "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        line = self.proc.stdout.readline()
        m = LISTENING.search(line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"the plane did not start: {line!r}; see {workdir / 'plane.log'}")
        self.address = m.group(1)
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.ps = psutil.Process(self.proc.pid)
        self.admin_tls = load_client_config(self.data_dir / "admin.conf", {}).tls

    def stub(self) -> orchestra_pb2_grpc.OrchestraStub:
        return orchestra_pb2_grpc.OrchestraStub(transport.client_channel(self.address, self.admin_tls))

    def sample(self) -> dict:
        t = self.ps.cpu_times()
        return {"cpu_s": t.user + t.system, "rss": self.ps.memory_info().rss, "threads": self.ps.num_threads(),
                "at": time.monotonic()}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def usage_line(before: dict, after: dict) -> str:
    wall = after["at"] - before["at"]
    cpu = after["cpu_s"] - before["cpu_s"]
    return (f"plane: {cpu:.1f} CPU s in {wall:.1f} s ({100 * cpu / max(wall, 1e-9):.0f}% of a core), "
            f"RSS {after['rss'] / 2**20:.0f} MiB, {after['threads']} threads")


# -- the simulated agents -------------------------------------------------------------------------
class Workers:
    def __init__(self, plane: Plane, agents: int, processes: int):
        self.procs = []
        self.running = [0] * processes
        self.errors = [0] * processes
        self.last_error = [""] * processes
        self.ready = threading.Semaphore(0)
        self.owner: dict[str, int] = {}
        per = -(-agents // processes)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        from simulated_agents import node_name
        for w in range(processes):
            first, count = w * per, min(per, agents - w * per)
            if count <= 0:
                break
            for i in range(first, first + count):
                self.owner[node_name(i)] = w
            p = subprocess.Popen([sys.executable, str(SIMULATOR), "--server", plane.address, "--data-dir",
                                  str(plane.data_dir), "--first", str(first), "--count", str(count)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
            self.procs.append(p)
            threading.Thread(target=self._read, args=(w, p), daemon=True).start()
        self.agents = agents

    def _read(self, w: int, p: subprocess.Popen) -> None:
        for line in p.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "ready" in msg:
                self.ready.release()
            if "running" in msg:
                self.running[w] = msg["running"]
                self.errors[w] = msg["errors"]
                self.last_error[w] = msg.get("last_error", "")

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for _ in self.procs:
            if not self.ready.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
        return True

    def total_running(self) -> int:
        return sum(self.running)

    def kill(self, names: list[str]) -> None:
        by_worker = defaultdict(list)
        for n in names:
            by_worker[self.owner[n]].append(n)
        for w, group in by_worker.items():
            self.procs[w].stdin.write("kill " + " ".join(group) + "\n")
            self.procs[w].stdin.flush()

    def stop(self) -> None:
        for p in self.procs:
            try:
                p.stdin.write("quit\n")
                p.stdin.flush()
            except OSError:
                pass
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


# -- the user side --------------------------------------------------------------------------------
def workload_json(name: str, replicas: int) -> str:
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name, "labels": {"bench": "1"}},
           "spec": {"replicas": replicas, "template": {"image": "local/busybox:1", "command": ["sleep", "1d"],
                                                       "resources": {"cpu": "10m", "memory": "16Mi"}}}}
    return json.dumps(workload_to_dict(parse_document(doc, source="<bench>")), sort_keys=True)


class Prober(threading.Thread):
    """ListNodes, ListReplicas, DescribeWorkload, one after the other, until stopped."""

    def __init__(self, plane: Plane, workloads: list[str]):
        """`workloads`: the names applied so far (it grows while the prober runs)."""
        super().__init__(daemon=True)
        self.stub = plane.stub()
        self.workloads = workloads
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.failures: Counter = Counter()
        self.halt = threading.Event()

    def run(self) -> None:
        calls = [("ListNodes", lambda: self.stub.ListNodes(pb.ListNodesRequest(), timeout=CALL_TIMEOUT_S)),
                 ("ListReplicas", lambda: self.stub.ListReplicas(pb.ListReplicasRequest(), timeout=CALL_TIMEOUT_S)),
                 ("DescribeWorkload", lambda: self.stub.DescribeWorkload(
                     pb.DescribeRequest(name=random.choice(self.workloads)), timeout=CALL_TIMEOUT_S))]
        while not self.halt.is_set():
            for name, call in calls:
                if self.halt.is_set() or (name == "DescribeWorkload" and not self.workloads):
                    continue
                t = time.perf_counter()
                try:
                    call()
                    self.latency[name].append(time.perf_counter() - t)
                except grpc.RpcError as exc:
                    self.failures[f"{name}: {exc.code().name}"] += 1
            self.halt.wait(0.2)

    def report(self) -> None:
        self.halt.set()
        self.join(CALL_TIMEOUT_S)
        for name in ("ListNodes", "ListReplicas", "DescribeWorkload"):
            say(f"  user API {name}: {pct(self.latency[name])}")
        if self.failures:
            say(f"  user API failures: {dict(self.failures)}")


def apply_all(plane: Plane, docs: list[tuple[str, str]], clients: int, deadline: float,
              done: list[str]) -> tuple[list[float], Counter, float]:
    """Each (name, document) in its own Apply, `clients` at a time; returns latencies, failures,
    wall time; appends each applied name to `done`."""
    local = threading.local()
    latencies: list[float] = []
    failures: Counter = Counter()
    lock = threading.Lock()

    def one(item: tuple[str, str]) -> None:
        name, doc = item
        if time.monotonic() > deadline:
            with lock:
                failures["not sent: out of time"] += 1
            return
        if not hasattr(local, "stub"):
            local.stub = plane.stub()
        t = time.perf_counter()
        try:
            local.stub.Apply(pb.ApplyRequest(documents_json=[doc]), timeout=CALL_TIMEOUT_S)
            with lock:
                latencies.append(time.perf_counter() - t)
                done.append(name)
        except grpc.RpcError as exc:
            with lock:
                failures[f"{exc.code().name}: {exc.details()[:80]}"] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, docs))
    return latencies, failures, time.perf_counter() - started


def wait_running(workers: Workers, expected: int, deadline: float, started: float) -> float | None:
    last_print = time.monotonic()
    while time.monotonic() < deadline:
        if workers.total_running() >= expected:
            return time.perf_counter() - started
        if time.monotonic() - last_print > 15:
            errors = sum(workers.errors)
            last = next((e for e in workers.last_error if e), "")
            say(f"  ... {workers.total_running()}/{expected} replicas reported Running"
                + (f" (simulated agents' errors: {errors}, last: {last})" if errors else ""))
            last_print = time.monotonic()
        time.sleep(0.1)
    return None


# -- profiling ------------------------------------------------------------------------------------
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """'heard_from (/x/orchestra/server/liveness.py:41)' -> 'heard_from (orchestra/server/liveness.py)'."""
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m.group(2)
    for marker in ("site-packages/", str(ROOT) + "/", "lib/python3.11/", "lib/python3.12/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m.group(1)} ({path})"


class Profile:
    """py-spy on the plane while a scenario runs; then the top functions by CPU samples
    (py-spy 0.3.14: 0.4.3 cannot find the Python version of this machine's interpreter)."""

    def __init__(self, plane: Plane, workdir: Path, scenario: str):
        exe = shutil.which("py-spy")
        if exe is None:
            raise SystemExit("--profile needs py-spy (pip install py-spy)")
        self.out = workdir / f"profile-{scenario}.txt"
        self.proc = subprocess.Popen([exe, "record", "--pid", str(plane.proc.pid), "--rate", "25", "--format", "raw",
                                      "--output", str(self.out), "--nonblocking", "--threads"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def report(self, top: int = 25) -> None:
        self.proc.send_signal(2)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if not self.out.exists():
            say("  profile: py-spy wrote nothing")
            return
        inclusive: Counter = Counter()
        leaf: Counter = Counter()
        total = 0
        for line in self.out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = [_function(f) for f in stack.split(";") if not f.startswith("thread (")]
            if not frames:
                continue
            total += n
            leaf[frames[-1]] += n
            for f in set(frames):
                inclusive[f] += n
        say(f"  profile ({total} samples, raw stacks in {self.out}):")
        say("   inclusive:")
        for f, n in inclusive.most_common(top):
            say(f"    {100 * n / total:5.1f}%  {f}")
        say("   self:")
        for f, n in leaf.most_common(top // 2):
            say(f"    {100 * n / total:5.1f}%  {f}")


# -- scenarios ------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=2, help="simulator processes (the agents are split among them)")
    ap.add_argument("--scenario", choices=["all", "idle", "single", "bulk", "heal"], default="all")
    ap.add_argument("--quick", action="store_true", help="50 agents, 200 single, 10x20 bulk, lose 5")
    ap.add_argument("--single", type=int, default=10_000, help="single-replica workloads to apply")
    ap.add_argument("--bulk", default="100x100", help="WORKLOADSxREPLICAS")
    ap.add_argument("--lose", type=int, default=100, help="nodes that vanish at once in `heal`")
    ap.add_argument("--clients", type=int, default=16, help="concurrent Apply callers")
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--node-grace", default="10s")
    ap.add_argument("--heartbeat-interval", default="", help="the plane's (default: the server's own)")
    ap.add_argument("--store", choices=["sqlite", "etcd"], default="sqlite")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds any one scenario may take")
    ap.add_argument("--profile", default="", metavar="SCENARIO[,SCENARIO]",
                    help="py-spy the plane during these scenarios")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (plane log, profiles)")
    args = ap.parse_args()
    if args.quick:
        args.agents, args.single, args.bulk, args.lose, args.idle_seconds = 50, 200, "10x20", 5, 10.0
    bulk_w, bulk_r = (int(x) for x in args.bulk.lower().split("x"))
    wanted = {"idle", "single", "bulk", "heal"} if args.scenario == "all" else {args.scenario}
    profiled = {p for p in args.profile.split(",") if p}
    if profiled - {"idle", "single", "bulk", "heal"}:
        ap.error(f"--profile: unknown scenario in {args.profile!r}")

    def interrupted(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)   # so that `finally` stops the plane and the agents
    workdir = Path(tempfile.mkdtemp(prefix="plane-scale-"))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    etcd = None
    store_args: list[str] = []
    if args.store == "etcd":
        from tests.support.etcd import start_cluster
        etcd = start_cluster(workdir / "etcd", members=1)
        store_args = ["--store", etcd.url, "--etcd-ca", etcd.tls.ca, "--etcd-cert", etcd.tls.cert,
                      "--etcd-key", etcd.tls.key]
    say(f"plane_scale: {args.agents} agents in {args.processes} processes, store {args.store}, "
        f"node grace {args.node_grace}; work dir {workdir}")
    plane = Plane(workdir, store_args, args.node_grace, args.heartbeat_interval)
    workers = None
    try:
        t0 = time.perf_counter()
        workers = Workers(plane, args.agents, args.processes)
        if not workers.wait_ready(args.timeout):
            raise SystemExit(f"not every agent was welcomed within {args.timeout:.0f} s "
                             f"(errors: {workers.errors}, last: {workers.last_error})")
        stub = plane.stub()
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            try:
                nodes = stub.ListNodes(pb.ListNodesRequest(), timeout=CALL_TIMEOUT_S).nodes
            except grpc.RpcError as exc:
                say(f"  (ListNodes while agents connect: {exc.code().name})")
                continue
            if sum(1 for n in nodes if n.status == "Ready") >= args.agents:
                break
            time.sleep(1.0)
        say(f"connect: {args.agents} agents welcomed and Ready after {time.perf_counter() - t0:.1f} s")
        expected = 0
        applied: list[str] = []

        def scenario(name: str):
            # `heal` alone needs replicas to lose: it applies the bulk workloads first.
            return name in wanted or (name == "bulk" and wanted == {"heal"})

        if "idle" in wanted:
            prof = Profile(plane, workdir, "idle") if "idle" in profiled else None
            before = plane.sample()
            time.sleep(args.idle_seconds)
            say(f"idle ({args.agents} agents): {usage_line(before, plane.sample())}")
            if prof:
                prof.report()

        if scenario("single"):
            prof = Profile(plane, workdir, "single") if "single" in profiled else None
            names = [f"s-{i}" for i in range(args.single)]
            docs = [(n, workload_json(n, 1)) for n in names]
            done: list[str] = []
            prober = Prober(plane, done)
            before = plane.sample()
            started = time.perf_counter()
            prober.start()
            lat, failures, wall = apply_all(plane, docs, args.clients, time.monotonic() + args.timeout, done)
            applied += done
            expected += len(lat)
            say(f"single: {len(lat)} single-replica workloads applied by {args.clients} clients in {wall:.1f} s: "
                f"{len(lat) / wall:.0f} workloads/s; Apply {pct(lat)}")
            if failures:
                say(f"  Apply failures: {dict(failures)}")
            took = wait_running(workers, expected, time.monotonic() + args.timeout, started)
            say(f"  all {expected} Running (as the agents report) {took:.1f} s after the first Apply"
                if took else f"  NOT all Running within {args.timeout:.0f} s: {workers.total_running()}/{expected}")
            prober.report()
            say("  " + usage_line(before, plane.sample()))
            if prof:
                prof.report()

        if scenario("bulk"):
            prof = Profile(plane, workdir, "bulk") if "bulk" in profiled else None
            names = [f"b-{i}" for i in range(bulk_w)]
            docs = [(n, workload_json(n, bulk_r)) for n in names]
            done = []
            prober = Prober(plane, done)
            before = plane.sample()
            started = time.perf_counter()
            prober.start()
            lat, failures, wall = apply_all(plane, docs, min(args.clients, bulk_w), time.monotonic() + args.timeout,
                                            done)
            applied += done
            expected += len(lat) * bulk_r
            say(f"bulk: {len(lat)} workloads x {bulk_r} replicas applied in {wall:.1f} s; Apply {pct(lat)}")
            if failures:
                say(f"  Apply failures: {dict(failures)}")
            took = wait_running(workers, expected, time.monotonic() + args.timeout, started)
            if took:
                say(f"  apply to all {len(lat) * bulk_r} Running (as the agents report): {took:.1f} s, "
                    f"{len(lat) * bulk_r / took:.0f} replicas/s")
            else:
                say(f"  NOT all Running within {args.timeout:.0f} s: {workers.total_running()}/{expected}")
            prober.report()
            say("  " + usage_line(before, plane.sample()))
            if prof:
                prof.report()

        if "heal" in wanted:
            prof = Profile(plane, workdir, "heal") if "heal" in profiled else None
            replicas = stub.ListReplicas(pb.ListReplicasRequest(), timeout=CALL_TIMEOUT_S).replicas
            by_node = defaultdict(list)
            for r in replicas:
                if r.node:
                    by_node[r.node].append(r.id)
            lose = min(args.lose, args.agents // 2)
            if lose < args.lose:
                say(f"  (losing {lose} of {args.agents} nodes, not {args.lose}: the rest must hold their replicas)")
            victims = random.Random(7).sample(sorted(by_node), min(lose, len(by_node)))
            lost = {rid for n in victims for rid in by_node[n]}
            before = plane.sample()
            running_before = workers.total_running()
            t = time.perf_counter()
            workers.kill(victims)
            not_ready: dict = {}
            healed_at = None
            deadline = time.monotonic() + args.timeout
            gone = set(victims)
            poll_failures: Counter = Counter()

            def watch_not_ready():
                # Its own thread: ListNodes is slow at scale and must not delay the heal's own clock.
                watcher = plane.stub()
                while time.monotonic() < deadline and "at" not in not_ready:
                    try:
                        nodes = watcher.ListNodes(pb.ListNodesRequest(), timeout=CALL_TIMEOUT_S).nodes
                        if all(n.status != "Ready" for n in nodes if n.name in gone):
                            not_ready["at"] = time.perf_counter() - t
                    except grpc.RpcError:
                        poll_failures["ListNodes"] += 1
                    time.sleep(0.5)
            threading.Thread(target=watch_not_ready, daemon=True).start()
            # As the agents report (what `bulk` measures too): their count first drops by the lost
            # replicas, then comes back once the survivors run them. The user API is asked only after
            # that: listing 10,000 replicas every 0.2 s while the plane heals was most of its work.
            while time.monotonic() < deadline and workers.total_running() > running_before - len(lost):
                time.sleep(0.05)
            ran_at = wait_running(workers, running_before, deadline, t)
            while time.monotonic() < deadline and healed_at is None:
                try:
                    now = {r.id: r for r in stub.ListReplicas(pb.ListReplicasRequest(), timeout=30).replicas}
                    if all(rid in now and now[rid].node not in gone and now[rid].phase == "Running" for rid in lost):
                        healed_at = time.perf_counter() - t
                except grpc.RpcError:
                    poll_failures["ListReplicas"] += 1
                time.sleep(0.2)
            not_ready_at = not_ready.get("at")
            if poll_failures:
                say(f"  (user API calls that failed while watching the heal: {dict(poll_failures)})")
            say(f"heal: {len(victims)} nodes lost at once with {len(lost)} replicas: "
                + (f"every one Running elsewhere {ran_at:.1f} s later (as the agents report), "
                   if ran_at else "")
                + (f"the API shows every one Running elsewhere after {healed_at:.1f} s" if healed_at else
                   f"NOT healed within {args.timeout:.0f} s")
                + (f"; all seen NotReady after {not_ready_at:.1f} s" if not_ready_at else "")
                + f" (node grace {args.node_grace})")
            say("  " + usage_line(before, plane.sample()))
            if prof:
                prof.report()
        final = plane.sample()
        say(f"end: plane RSS {final['rss'] / 2**20:.0f} MiB, {final['threads']} threads, "
            f"{final['cpu_s']:.0f} CPU s in all")
    finally:
        if workers:
            workers.stop()
        plane.stop()
        if etcd:
            etcd.close()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
