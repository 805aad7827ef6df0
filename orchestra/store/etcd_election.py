"""Leader election among planes that share an etcd store, after etcd's own
client/v3/concurrency (session.go, election.go):

- Each candidate holds a lease that a thread keeps alive (`Session`). When the process dies or
  stops (SIGSTOP), the keep-alives stop and etcd deletes the lease's keys after its TTL.
- A candidate puts its key `<prefix>_election/<name>/<lease id in hex>` bound to its lease.
  The key with the lowest create revision leads; the others each wait, by a watch, until every
  key created before theirs is gone (`campaign`).
- The leader's fencing token is its key and that key's create revision (`Leadership.fence`).
  The store's fenced view (EtcdStore.fenced) adds to every write the compare "this key still
  exists with this create revision". A deposed leader that wakes up after its lease expired
  finds its key gone: its writes are refused (NotLeaderError) and nothing is written. Its own
  session also notices at the next keep-alive (`Leadership.lost`).
- Observers ask `leader()` (who leads, since when) and `candidates()`, or wait for a change
  with `wait_for_change()`; nothing there needs a session.

The key's value is a small JSON document: the candidate's name, what it offers (e.g. its
address) and, once it leads, `leader_since_ms` (its wall clock when it won, set with a compare
on its create revision, like election.go's Proclaim).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from orchestra.store.errors import StoreError
from orchestra.store.etcd import DEFAULT_PREFIX, Fence
from orchestra.store.etcd_api import rpc_pb2 as pb
from orchestra.store.etcd_client import EtcdClient, StoreRequestError, StoreUnavailableError, prefix_end

# A lease of 5 s: a dead leader is replaced within about 5.5 s (etcd expires leases up to
# 0.5 s late); keep-alives every 1.7 s tolerate a slow member or two.
DEFAULT_TTL_S = 5


class LeadershipLost(StoreError):
    """This candidate's session or key is gone: it does not lead (any more)."""


class Session:
    """A lease kept alive by a thread of its own: every third of its TTL. `lost` is set when
    etcd says the lease is gone, or when no keep-alive got through for a whole TTL (the lease
    has then surely expired, or will before anyone could tell us otherwise)."""

    def __init__(self, client: EtcdClient, ttl_s: int = DEFAULT_TTL_S):
        self.client = client
        self.ttl_s = ttl_s
        grant = client.lease_grant(ttl_s)
        self.lease_id = grant.ID
        self.lost = threading.Event()
        self.lost_reason = ""
        self._stop = threading.Event()
        self._last_ok = time.monotonic()
        self._thread = threading.Thread(target=self._keep_alive, name=f"etcd-lease-{self.lease_id:x}", daemon=True)
        self._thread.start()

    def _lose(self, reason: str) -> None:
        if not self.lost.is_set():
            self.lost_reason = reason
            self.lost.set()

    def _keep_alive(self) -> None:
        interval = max(0.2, self.ttl_s / 3)
        while not self._stop.wait(interval):
            try:
                ttl = self.client.keep_alive_once(self.lease_id, timeout_s=interval)
            except StoreError as exc:
                if time.monotonic() - self._last_ok > self.ttl_s:
                    self._lose(f"no keep-alive got through for {self.ttl_s} s ({exc})")
                    return
                continue
            if ttl <= 0:
                self._lose(f"etcd says lease {self.lease_id:x} is gone (it expired)")
                return
            # A keep-alive answered long after the lease's deadline (this process was stopped) is
            # no proof: etcd may have expired the lease meanwhile, and then answers TTL <= 0.
            self._last_ok = time.monotonic()

    def orphan(self) -> None:
        """Stops the keep-alives and leaves the lease to expire (etcd's Session.Orphan)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def close(self) -> None:
        """Stops the keep-alives and revokes the lease: its keys go at once."""
        self.orphan()
        try:
            self.client.lease_revoke(self.lease_id, timeout_s=min(2.0, self.ttl_s))
        except StoreError:
            pass  # it expires by itself within its TTL
        self._lose("session closed")


@dataclass(frozen=True)
class Candidate:
    name: str
    key: bytes
    create_revision: int
    lease: int
    info: dict
    leader_since_ms: int = 0        # 0 until it has won (or for a candidate that does not lead)


@dataclass
class Leadership:
    """This candidate leads. `fence` goes to EtcdStore.fenced(); `lost` is set when the
    session's lease is gone (after which no fenced write can succeed)."""
    election: "Election"
    session: Session
    key: bytes
    create_revision: int
    since_ms: int
    won_revision: int
    _resigned: threading.Event = field(default_factory=threading.Event)

    @property
    def fence(self) -> Fence:
        return Fence(key=self.key, create_revision=self.create_revision,
                     description=f"leader key of election {self.election.name!r}")

    @property
    def lost(self) -> threading.Event:
        return self.session.lost

    def still_leads(self) -> bool:
        """Asks etcd (a linearizable read): does our key still exist with our revision?"""
        if self._resigned.is_set() or self.session.lost.is_set():
            return False
        r = self.election.client.range(self.key, what="checking leadership")
        return bool(r.kvs) and r.kvs[0].create_revision == self.create_revision

    def resign(self) -> None:
        """Deletes our key if it is still ours, so that the next candidate leads at once."""
        self._resigned.set()
        self.election.client.txn(pb.TxnRequest(
            compare=[pb.Compare(key=self.key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL,
                                create_revision=self.create_revision)],
            success=[pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=self.key))]),
            what="resigning", resolve=lambda _t: False)


class Election:
    """The election `name` among planes sharing the store prefix `prefix`."""

    def __init__(self, client: EtcdClient, name: str = "planes", prefix: str = DEFAULT_PREFIX,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)):
        if not prefix.endswith("/"):
            prefix += "/"
        self.client = client
        self.name = name
        self.key_prefix = f"{prefix}_election/{name}/".encode()
        self.clock_ms = clock_ms

    # -- candidates -------------------------------------------------------------------------------
    def campaign(self, session: Session, candidate: str, info: dict | None = None,
                 timeout_s: float | None = None, stop: threading.Event | None = None) -> Leadership:
        """Blocks until this candidate leads; raises LeadershipLost when its session is lost,
        TimeoutError after `timeout_s`, InterruptedError when `stop` is set."""
        key = self.key_prefix + f"{session.lease_id:x}".encode()
        doc = {"name": candidate, "info": info or {}, "leader_since_ms": 0}
        value = json.dumps(doc, sort_keys=True).encode()
        resp = self.client.txn(pb.TxnRequest(
            compare=[pb.Compare(key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=0)],
            success=[pb.RequestOp(request_put=pb.PutRequest(key=key, value=value, lease=session.lease_id))],
            failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key))]), what="campaigning",
            resolve=lambda _t: False)
        if resp.succeeded:
            rev = resp.header.revision
        else:
            rev = resp.responses[0].response_range.kvs[0].create_revision  # this session campaigned before
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        won_revision = self._wait_deletes(rev - 1, session, deadline, stop)
        since = self.clock_ms()
        doc["leader_since_ms"] = since
        try:
            proclaimed = self.client.txn(pb.TxnRequest(
                compare=[pb.Compare(key=key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL, create_revision=rev)],
                success=[pb.RequestOp(request_put=pb.PutRequest(
                    key=key, value=json.dumps(doc, sort_keys=True).encode(), lease=session.lease_id))]),
                what="announcing leadership", resolve=lambda _t: False)
        except StoreRequestError as exc:
            if "lease not found" not in str(exc):
                raise
            raise LeadershipLost(f"election {self.name!r}: {candidate}'s lease expired as it won") from None
        if proclaimed is not None and not proclaimed.succeeded:
            raise LeadershipLost(f"election {self.name!r}: {candidate}'s key vanished as it won "
                                 f"({session.lost_reason or 'its lease expired'})")
        return Leadership(self, session, key, rev, since, won_revision)

    def _wait_deletes(self, max_create_rev: int, session: Session, deadline: float | None,
                      stop: threading.Event | None) -> int:
        """Until no key created at or before `max_create_rev` is left (etcd's waitDeletes);
        returns the revision at which that was seen."""
        while True:
            r = self.client.range(self.key_prefix, prefix_end(self.key_prefix), max_create_revision=max_create_rev,
                                  sort_target=pb.RangeRequest.CREATE, sort_order=pb.RangeRequest.DESCEND, limit=1,
                                  what="waiting to lead")
            if not r.kvs:
                return r.header.revision
            self._wait_delete(r.kvs[0].key, r.header.revision, session, deadline, stop)

    def _wait_delete(self, key: bytes, revision: int, session: Session, deadline: float | None,
                     stop: threading.Event | None) -> None:
        try:
            watch = self.client.watch(key, start_revision=revision)
        except StoreError:
            time.sleep(0.2)
            return
        try:
            while True:
                if session.lost.is_set():
                    raise LeadershipLost(f"election {self.name!r}: session lost while waiting to lead: "
                                         f"{session.lost_reason}")
                if stop is not None and stop.is_set():
                    raise InterruptedError(f"election {self.name!r}: campaign stopped")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"election {self.name!r}: did not win in time")
                try:
                    resp = watch.get(timeout=0.25 if remaining is None else min(0.25, remaining))
                except StoreUnavailableError:
                    return  # the member went away: read again (on another) and watch again
                if resp is not None and any(ev.type == ev.DELETE for ev in resp.events):
                    return
        finally:
            watch.cancel()

    # -- observers --------------------------------------------------------------------------------
    def candidates(self) -> list[Candidate]:
        """Every candidate, the leader first (lowest create revision)."""
        return self._candidates()[0]

    def _candidates(self) -> tuple[list[Candidate], int]:
        r = self.client.range(self.key_prefix, prefix_end(self.key_prefix), sort_target=pb.RangeRequest.CREATE,
                              sort_order=pb.RangeRequest.ASCEND, what="listing candidates")
        out = []
        for i, kv in enumerate(r.kvs):
            try:
                doc = json.loads(kv.value)
            except ValueError:
                doc = {}
            out.append(Candidate(name=str(doc.get("name", "")), key=kv.key, create_revision=kv.create_revision,
                                 lease=kv.lease, info=doc.get("info") or {},
                                 leader_since_ms=int(doc.get("leader_since_ms") or 0) if i == 0 else 0))
        return out, r.header.revision

    def leader(self) -> Candidate | None:
        found = self.candidates()
        return found[0] if found else None

    def wait_for_change(self, current: Candidate | None, timeout_s: float) -> Candidate | None:
        """The leader once it differs from `current` (another key, or a new leader_since_ms),
        or the same after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            found, revision = self._candidates()
            now = found[0] if found else None
            if (now is None) != (current is None) or (now and current and (
                    now.key != current.key or now.create_revision != current.create_revision
                    or now.leader_since_ms != current.leader_since_ms)):
                return now
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return now
            try:
                watch = self.client.watch(self.key_prefix, prefix_end(self.key_prefix), start_revision=revision + 1)
            except StoreError:
                time.sleep(min(0.2, remaining))
                continue
            try:
                end = time.monotonic() + remaining
                while time.monotonic() < end:
                    try:
                        resp = watch.get(timeout=min(0.25, max(0.0, end - time.monotonic())))
                    except StoreUnavailableError:
                        break
                    if resp is not None and resp.events:
                        break
            finally:
                watch.cancel()
