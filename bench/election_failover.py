"""Leader failover on etcd: time from `kill -9` of the leading candidate's process to another
candidate leading, with the election's default lease (orchestra/store/etcd_election.py).

    python bench/election_failover.py [--runs 5] [--ttl 5] [--members 3]

Real processes: an etcd cluster on 127.0.0.1 (tests/support/etcd.py), the leader in a process
of its own (tests/integration/store/election_candidate.py: it campaigns, then writes through
the fenced store every 50 ms), the successor campaigning here. Prints each run and the median.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from orchestra.store.etcd import EtcdStore  # noqa: E402
from orchestra.store.etcd_election import DEFAULT_TTL_S, Election, Session  # noqa: E402
from tests.support.etcd import start_cluster  # noqa: E402

CANDIDATE = ROOT / "tests" / "integration" / "store" / "election_candidate.py"


def one_run(cluster, prefix: str, ttl: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    leader = subprocess.Popen([sys.executable, str(CANDIDATE), "old", prefix, str(ttl), ",".join(cluster.endpoints),
                               cluster.tls.ca, cluster.tls.cert, cluster.tls.key],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        while not leader.stdout.readline().startswith("LEADER"):
            if leader.poll() is not None:
                raise SystemExit("the first candidate did not lead")
        store = EtcdStore(cluster.endpoints, cluster.tls, prefix=prefix)
        session = Session(store.client, ttl)
        election = Election(store.client, prefix=prefix)
        result: dict = {}

        def campaign():
            result["leadership"] = election.campaign(session, "new", timeout_s=10 * ttl)
            result["at"] = time.perf_counter()
        t = threading.Thread(target=campaign)
        t.start()
        time.sleep(0.5)
        killed = time.perf_counter()
        os.kill(leader.pid, signal.SIGKILL)
        t.join()
        session.close()
        store.close()
        return result["at"] - killed
    finally:
        if leader.poll() is None:
            leader.kill()
        leader.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ttl", type=int, default=DEFAULT_TTL_S)
    ap.add_argument("--members", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cluster = start_cluster(Path(tmp), members=args.members)
        try:
            times = []
            for i in range(args.runs):
                t = one_run(cluster, f"/failover-{i}/", args.ttl)
                times.append(t)
                print(f"run {i + 1}: {t:.2f} s from kill -9 of the leader to the next one leading", flush=True)
            print(f"median of {args.runs}: {statistics.median(times):.2f} s (lease TTL {args.ttl} s, "
                  f"{args.members} etcd members)")
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
