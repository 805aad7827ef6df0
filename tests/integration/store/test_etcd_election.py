"""Leader election with fenced writes on a real etcd: candidates in this process and in
processes of their own (election_candidate.py), killed with -9 or stopped with SIGSTOP."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestra.store import NodeRecord
from orchestra.store.etcd import EtcdStore, NotLeaderError
from orchestra.store.etcd_election import Election, Session

TTL_S = 2
# etcd expires leases up to ~0.5 s late; the new leader then needs a watch event and two writes.
HANDOVER_S = TTL_S + 5
REPO = Path(__file__).resolve().parents[3]
CANDIDATE = Path(__file__).resolve().parent / "election_candidate.py"


@pytest.fixture
def store(etcd_cluster, etcd_prefix):
    s = EtcdStore(etcd_cluster.endpoints, etcd_cluster.tls, prefix=etcd_prefix)
    yield s
    s.close()


class Campaign:
    """campaign() in a thread: `.leadership` once it won, `.error` if it failed."""

    def __init__(self, election: Election, session: Session, name: str):
        self.leadership = None
        self.error = None
        self.won = threading.Event()
        self.won_at = 0.0
        self.thread = threading.Thread(target=self._run, args=(election, session, name), daemon=True)
        self.thread.start()

    def _run(self, election, session, name):
        try:
            self.leadership = election.campaign(session, name, timeout_s=60)
            self.won_at = time.monotonic()
        except Exception as exc:  # reported by the test
            self.error = exc
        self.won.set()

    def wait(self, timeout: float):
        assert self.won.wait(timeout), "no leadership within the time limit"
        assert self.error is None, self.error
        return self.leadership


class CandidateProcess:
    def __init__(self, cluster, prefix: str, name: str):
        env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, str(CANDIDATE), name, prefix, str(TTL_S), ",".join(cluster.endpoints),
             cluster.tls.ca, cluster.tls.cert, cluster.tls.key],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} from the candidate within {timeout} s; it said {self.seen}")
            if line is None:
                raise AssertionError(f"the candidate ended ({self.proc.wait()}) without {prefix!r}; it said {self.seen}")
            self.seen.append(line)
            if line.startswith(prefix):
                return line

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def candidate_process(etcd_cluster, etcd_prefix):
    started = []

    def start(name: str) -> CandidateProcess:
        p = CandidateProcess(etcd_cluster, etcd_prefix, name)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()


def test_one_leads_the_next_waits_and_takes_over_when_it_resigns(store):
    election = Election(store.client, prefix=store.prefix)
    a_session, b_session = Session(store.client, TTL_S), Session(store.client, TTL_S)
    a = election.campaign(a_session, "plane-a", {"address": "127.0.0.1:7001"}, timeout_s=10)
    b = Campaign(election, b_session, "plane-b")
    assert not b.won.wait(1.0), "a second candidate must not lead while the first does"
    leader = election.leader()
    assert (leader.name, leader.info, leader.key) == ("plane-a", {"address": "127.0.0.1:7001"}, a.key)
    assert leader.leader_since_ms == a.since_ms > 0
    assert [c.name for c in election.candidates()] == ["plane-a", "plane-b"]
    assert a.still_leads()
    a.resign()
    changed = election.wait_for_change(leader, timeout_s=HANDOVER_S)
    b_lead = b.wait(HANDOVER_S)
    assert changed is not None and changed.name == "plane-b"
    assert b_lead.create_revision > a.create_revision and not a.still_leads() and b_lead.still_leads()
    a_session.close(), b_session.close()


def test_a_leader_whose_keepalives_stop_is_replaced_and_its_writes_refused(store):
    election = Election(store.client, prefix=store.prefix)
    a_session, b_session = Session(store.client, TTL_S), Session(store.client, TTL_S)
    a = election.campaign(a_session, "plane-a", timeout_s=10)
    a_store = store.fenced(a.fence)
    a_store.put_node(NodeRecord(name="n1", labels={"by": "a"}))
    b = Campaign(election, b_session, "plane-b")
    a_session.orphan()  # as if its keep-alive thread had died
    stopped = time.monotonic()
    b_lead = b.wait(HANDOVER_S)
    assert b.won_at - stopped < HANDOVER_S
    with pytest.raises(NotLeaderError, match="no longer leads.*nothing was written"):
        with a_store.transaction():
            a_store.put_node(NodeRecord(name="n1", labels={"by": "a, deposed"}))
            a_store.put_node(NodeRecord(name="n2"))
    assert store.get_node("n1").labels == {"by": "a"} and store.get_node("n2") is None
    store.fenced(b_lead.fence).put_node(NodeRecord(name="n1", labels={"by": "b"}))
    assert store.get_node("n1").labels == {"by": "b"}
    b_session.close()


def test_a_killed_leader_process_is_replaced_within_its_lease(store, candidate_process):
    election = Election(store.client, prefix=store.prefix)
    a = candidate_process("plane-a")
    a.expect("LEADER")
    leader = election.leader()
    assert leader.name == "plane-a" and leader.info["pid"] == a.proc.pid
    b_session = Session(store.client, TTL_S)
    b = Campaign(election, b_session, "plane-b")
    assert not b.won.wait(0.5)
    os.kill(a.proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    b.wait(HANDOVER_S)
    assert b.won_at - killed < HANDOVER_S
    now = election.wait_for_change(leader, timeout_s=HANDOVER_S)
    assert now.name == "plane-b" and now.leader_since_ms > leader.leader_since_ms
    assert [c.name for c in election.candidates()] == ["plane-b"]
    b_session.close()


def test_a_stopped_leader_writes_nothing_when_it_wakes(store, candidate_process):
    election = Election(store.client, prefix=store.prefix)
    a = candidate_process("plane-a")
    a.expect("LEADER")
    a.expect("WROTE 10")
    b_session = Session(store.client, TTL_S)
    b = Campaign(election, b_session, "plane-b")
    os.kill(a.proc.pid, signal.SIGSTOP)
    b_lead = b.wait(HANDOVER_S)
    store.fenced(b_lead.fence).put_node(NodeRecord(name="n1", labels={"by": "b"}))
    beat_key = store._key(NodeRecord.KIND, "beat-plane-a")
    before = store.client.range(beat_key).kvs[0]
    os.kill(a.proc.pid, signal.SIGCONT)
    assert "no longer leads" in a.expect("REFUSED")
    a.expect("LOST")  # and its own session noticed that its lease is gone
    assert a.proc.wait(timeout=10) == 3
    after = store.client.range(beat_key).kvs[0]
    # Its last write happened while it still led; nothing of it landed after it was deposed.
    assert after.mod_revision == before.mod_revision < b_lead.won_revision
    assert election.leader().name == "plane-b"
    b_session.close()
