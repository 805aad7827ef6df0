"""Which plane runs the cluster, and this plane's Plane while it does.

One plane serves at a time: the leader. On SQLite there is one plane, and it leads from its
start to its end. On etcd every plane campaigns (orchestra.store.etcd_election: a lease per
plane, the oldest key leads); the winner begins a *term*:

  1. its store is the fenced view of its election key (EtcdStore.fenced): every write it makes
     holds only while that key exists, so a leader deposed while it was stopped (SIGSTOP, a
     long pause) writes nothing when it wakes: NotLeaderError, nothing written;
  2. it loads the whole state into memory (orchestra.store.cache) and starts a fresh Plane over
     it: controllers, agent hub, user service; liveness counts every node's grace (and the
     agents' reconnect allowance) from this moment, so nodes have time to come over;
  3. it serves the user API and the agents' sessions.

The term ends when the plane's lease is lost, a write is refused as not the leader's, the state
cannot be read back after a failed write (no quorum), or the plane stops. Then it ends every
agent session (UNAVAILABLE: the agents go to the next leader), stops the Plane, resigns if its
key is still its own (the next plane leads at once, not after the lease), and campaigns again,
as a follower.

A follower serves nothing but health, reflection and ListPlanes: every other call is answered
UNAVAILABLE with the leader's address (orchestra.server.follower_gate, orchestra.endpoints), and
clients move there. Why not serve reads or sessions on followers: the plane's working state is in
the leader's memory (written through in batches, so etcd can be a moment behind), the agents'
heartbeats decide liveness and must all reach one process, and logs and exec travel over the
node's own stream, which must end at the plane that sends it its desired set. Forwarding every
call through a follower would add a hop and a second TLS identity to every call for no gain:
the client knows every plane's address, and moving costs it one round trip.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import grpc

from orchestra.api import orchestra_pb2
from orchestra.server.errors import Unavailable
from orchestra.store.base import Store
from orchestra.store.cache import CachedStore
from orchestra.store.errors import StoreError

log = logging.getLogger("orchestra.server")

WATCH_EVERY_S = 0.2          # how often a term looks at its lease and its store
CHECK_LEADS_EVERY_S = 2.0    # and asks etcd whether its key is still its own
RETRY_S = 1.0                # after a failed campaign or load
LEADER_CACHE_S = 0.5         # a follower looks the leader up at most this often


def wall_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class PlaneIdentity:
    name: str
    address: str = ""          # where agents and the CLI reach it; known once the port is bound


@dataclass
class Term:
    plane: object              # orchestra.server.plane.Plane
    store: CachedStore
    since_ms: int
    won: object | None = None  # orchestra.store.etcd_election.Leadership (None: the sole plane)


@dataclass
class _Leader:
    name: str
    address: str
    since_ms: int
    seen_at: float = field(default_factory=time.monotonic)


class PlaneLeadership:
    """`make_plane(store)` builds the Plane of a term over its store. `election` (etcd) makes the
    planes campaign; without one this plane is the only one and leads until it stops."""

    def __init__(self, backing: Store, me: PlaneIdentity, make_plane: Callable[[CachedStore], object], *,
                 election=None, client=None, ttl_s: int | None = None, clock_ms: Callable[[], int] = wall_ms,
                 store_kind: str = "sqlite"):
        self.backing = backing
        self.me = me
        self.make_plane = make_plane
        self.election = election
        self.client = client
        self.ttl_s = ttl_s
        self.clock_ms = clock_ms
        self.store_kind = store_kind
        self.started_ms = clock_ms()
        self.why_not = "the plane is starting"     # why no plane leads, as far as this one knows
        self._term: Term | None = None
        self._leading = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader: _Leader | None = None
        self._leader_lock = threading.Lock()

    # -- what the servers ask ---------------------------------------------------------------------
    @property
    def term(self) -> Term | None:
        return self._term

    def store(self) -> Store:
        """The store to use now: the term's cache while leading, the backend otherwise."""
        term = self._term
        return term.store if term is not None else self.backing

    def leader(self) -> _Leader | None:
        """Who leads, as this plane knows it (looked up at most every LEADER_CACHE_S)."""
        term = self._term
        if term is not None:
            return _Leader(self.me.name, self.me.address, term.since_ms)
        if self.election is None:
            return None
        with self._leader_lock:
            known = self._leader
            if known is not None and time.monotonic() - known.seen_at < LEADER_CACHE_S:
                return known
            try:
                c = self.election.leader()
            except StoreError as exc:
                self.why_not = f"this plane cannot reach its store: {exc}"
                self._leader = None
                return None
            self._leader = None if c is None or not c.leader_since_ms else \
                _Leader(c.name, str(c.info.get("address", "")), c.leader_since_ms)
            return self._leader

    def refusal(self) -> tuple[str, str]:
        """What a call to this plane is told while it does not lead: (message, leader's address or "")."""
        leader = self.leader()
        if leader is not None and leader.name == self.me.name and leader.address == self.me.address:
            return f"plane {self.me.name} is taking over as leader; try again in a moment", ""
        if leader is not None:
            return (f"plane {self.me.name} ({self.me.address}) does not lead: plane {leader.name} leads, "
                    f"at {leader.address}"), leader.address
        return f"no plane leads right now: {self.why_not}", ""

    def list_planes(self) -> orchestra_pb2.ListPlanesResponse:
        out = orchestra_pb2.ListPlanesResponse(store=self.store_kind, answered_by=self.me.name)
        if self.election is None:
            term = self._term
            out.planes.add(name=self.me.name, address=self.me.address, leader=term is not None,
                           leader_since_ms=term.since_ms if term else 0, started_ms=self.started_ms)
            if term is None:
                out.election = self.why_not
            return out
        try:
            candidates = self.election.candidates()
        except StoreError as exc:
            raise Unavailable(f"cannot list the planes: {exc}") from None
        for i, c in enumerate(candidates):
            out.planes.add(name=c.name, address=str(c.info.get("address", "")),
                           leader=i == 0 and bool(c.leader_since_ms), leader_since_ms=c.leader_since_ms,
                           started_ms=int(c.info.get("started_ms") or 0))
        if not candidates or not candidates[0].leader_since_ms:
            out.election = self.why_not if self._term is None else ""
        return out

    # -- running ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="leadership", daemon=True)
        self._thread.start()

    def wait_leading(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._one_term()
            except Exception as exc:
                self.why_not = f"this plane cannot lead: {exc}"
                log.warning("plane %s: %s", self.me.name, self.why_not)
                self._stopping.wait(RETRY_S)

    def _one_term(self) -> None:
        won = None
        store: Store = self.backing
        if self.election is not None:
            from orchestra.store.etcd_election import Session
            try:
                session = Session(self.client, self.ttl_s) if self.ttl_s else Session(self.client)
            except StoreError as exc:
                self.why_not = f"this plane cannot reach its store: {exc}"
                raise
            try:
                won = self.election.campaign(session, self.me.name,
                                             {"address": self.me.address, "started_ms": self.started_ms},
                                             stop=self._stopping)
            except InterruptedError:
                session.close()
                return
            except BaseException:
                session.close()
                raise
            store = self.backing.fenced(won.fence)
        try:
            cache = CachedStore(store)
            plane = self.make_plane(cache)
            plane.start()
        except BaseException:
            if won is not None:
                self._resign(won)
            raise
        term = Term(plane, cache, won.since_ms if won is not None else self.clock_ms(), won)
        self._term = term
        self._leading.set()
        log.warning("plane %s leads (since %d)", self.me.name, term.since_ms)
        why = self._watch(term)
        self._end(term, why)

    def _watch(self, term: Term) -> str:
        """Blocks while the term lasts; returns why it ended."""
        checked = time.monotonic()
        while not self._stopping.wait(WATCH_EVERY_S):
            won = term.won
            if won is not None and won.lost.is_set():
                return f"its lease is gone ({won.session.lost_reason})"
            if term.store.broken:
                return term.store.broken
            failure = term.store.last_failure
            if failure is not None and type(failure).__name__ == "NotLeaderError":
                return str(failure)
            if won is not None and time.monotonic() - checked >= CHECK_LEADS_EVERY_S:
                checked = time.monotonic()
                try:
                    if not won.still_leads():
                        return "its election key is gone"
                except StoreError:
                    pass    # the store does not answer now; the lease decides
        return "the plane is stopping"

    def _end(self, term: Term, why: str) -> None:
        self._term = None
        self._leading.clear()
        self.why_not = f"plane {self.me.name} stopped leading: {why}"
        log.warning("plane %s no longer leads: %s", self.me.name, why)
        for s in term.plane.hub.sessions.all():
            s.end(grpc.StatusCode.UNAVAILABLE, f"plane {self.me.name} no longer leads ({why}); "
                                               "connect to the next plane")
        try:
            term.plane.stop()
        finally:
            term.store.close()
            if term.won is not None:
                self._resign(term.won)

    @staticmethod
    def _resign(won) -> None:
        if not won.lost.is_set():
            try:
                won.resign()
            except StoreError:
                pass     # its lease expires by itself
        won.session.close()


class _ServiceView:
    """The current term's user service (ListPlanes is the leadership's own: any plane answers it)."""

    def __init__(self, leadership: PlaneLeadership):
        self._leadership = leadership

    def list_planes(self) -> orchestra_pb2.ListPlanesResponse:
        return self._leadership.list_planes()

    def __getattr__(self, name: str):
        term = self._leadership.term
        if term is None:
            raise Unavailable(self._leadership.refusal()[0])
        return getattr(term.plane.service, name)


class _HubView:
    def __init__(self, leadership: PlaneLeadership):
        self._leadership = leadership

    def __getattr__(self, name: str):
        return getattr(self._leadership_hub(), name)

    def _leadership_hub(self):
        term = self._leadership.term
        if term is None:
            raise Unavailable(self._leadership.refusal()[0])
        return term.plane.hub


class CurrentPlane:
    """What the gRPC servicers are built with: `.service` and `.hub` of whichever term is current;
    `term_hub()` is the current term's hub itself (an agent's session belongs to one term)."""

    def __init__(self, leadership: PlaneLeadership):
        self.leadership = leadership
        self.service = _ServiceView(leadership)
        self.hub = _HubView(leadership)

    def term_hub(self):
        return self.hub._leadership_hub()

    def current_plane(self):
        """The leading term's Plane, or None while this plane does not lead (orchestra.server.metrics)."""
        term = self.leadership.term
        return term.plane if term is not None else None


class CurrentStore:
    """The store as the security layer sees it: the term's cache while this plane leads (its writes
    and events belong in the term's batches), the backend otherwise. Each call looks again."""

    def __init__(self, leadership: PlaneLeadership):
        self._leadership = leadership

    def __getattr__(self, name: str):
        def call(*args, **kwargs):
            return getattr(self._leadership.store(), name)(*args, **kwargs)
        call.__name__ = name
        return call
