"""kill -9 at a random moment under load: every acknowledged Apply survives, the store is consistent."""
from __future__ import annotations

import json
import random
import signal
import sqlite3
import threading
from collections import Counter
import time

import grpc
from plane_fixtures_integration import workload_json
from plane_process import start_plane

from orchestra.api import orchestra_pb2
from orchestra.store import SqliteStore


def test_kill_9_under_load_keeps_acknowledged_applies(tmp_path):
    data = str(tmp_path / "data")
    p = start_plane(data)
    acked: dict[str, int] = {}      # workload -> replicas of its newest acknowledged apply
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k: int):
        c = p.client()
        rng = random.Random(k)
        while not stop.is_set():
            name, replicas = f"w{k}-{rng.randrange(8)}", rng.randrange(1, 6)
            try:
                c.Apply(orchestra_pb2.ApplyRequest(documents_json=[workload_json(name, replicas=replicas)]),
                        timeout=30)
            except grpc.RpcError:
                return  # the plane died under us: that request may or may not have committed
            with lock:
                acked[name] = replicas

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    time.sleep(random.uniform(1.5, 4.0))
    with lock:
        snapshot = dict(acked)
    p.proc.send_signal(signal.SIGKILL)
    p.proc.wait(30)
    stop.set()
    for t in threads:
        t.join(30)
    p.stop()
    assert snapshot, "no apply was acknowledged before the kill"

    db = sqlite3.connect(f"{data}/state.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = SqliteStore(f"{data}/state.db")
    stored = {w.name: json.loads(w.spec_json)["spec"]["replicas"] for w in store.list_workloads()}
    counts = Counter(r.workload for r in store.list_replicas())
    store.close()
    # Each multi-record change was one transaction: replica records match their workload exactly
    # (and none is left without its workload).
    assert dict(counts) == {n: r for n, r in stored.items() if r}
    # Acknowledged means committed (an apply acknowledged before the snapshot may since have been replaced
    # by a later one of the same name; it can never be missing).
    assert set(snapshot) <= set(stored)

    p2 = start_plane(data)
    try:
        listed = p2.client().ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=30).workloads
        assert {w.name for w in listed} == set(stored)
    finally:
        assert p2.stop() == 0
