"""Which plane leads, and when a term begins and ends (PlaneLeadership), over a real SQLite store in
tmp_path and real Planes. etcd itself is not here (tests/integration/ha/ runs it): the store's
failures are a SqliteStore that refuses writes on demand (as a fenced etcd store refuses a deposed
leader's, or one without quorum everything), and the election is a stand-in that answers who leads
and lets this plane win; the lease is the real etcd_election.Session over a stand-in client."""
from __future__ import annotations

import itertools
import threading
from types import SimpleNamespace

import grpc
import pytest
from plane_fixtures import Clock, hello

from orchestra.server import leadership as mod
from orchestra.server.errors import Unavailable
from orchestra.server.leadership import CurrentPlane, CurrentStore, PlaneIdentity, PlaneLeadership
from orchestra.server.plane import Plane
from orchestra.server.sessions import SessionEnd
from orchestra.store import NotLeaderError, SqliteStore
from orchestra.store.errors import StoreError
from orchestra.store.etcd_election import Candidate
from orchestra.store.records import NodeRecord
from tests.support.waiting import wait_for

ME = "10.0.0.1:7070"


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(mod, "WATCH_EVERY_S", 0.02)
    monkeypatch.setattr(mod, "CHECK_LEADS_EVERY_S", 0.05)
    monkeypatch.setattr(mod, "RETRY_S", 0.05)


class Backing(SqliteStore):
    """A real store whose writes can be refused (`refuse`) and which can stop answering (`down`)."""
    refuse: Exception | None = None
    down = False
    fences: tuple = ()

    def apply_batch(self, puts, deletes, events):
        if self.down:
            raise StoreError("the store has no quorum")
        if self.refuse is not None:
            raise self.refuse
        return super().apply_batch(puts, deletes, events)

    def list(self, cls, **kw):
        if self.down:
            raise StoreError("the store has no quorum")
        return super().list(cls, **kw)

    def fenced(self, fence):
        self.fences = (*self.fences, fence)
        return self


class Client:
    """What etcd_election.Session asks of etcd: a lease, its keep-alives (ttl 0: etcd lost it), its revoke."""

    def __init__(self):
        self.ttl = 5
        self.revoked = []
        self._ids = itertools.count(1)

    def lease_grant(self, ttl_s):
        return SimpleNamespace(ID=next(self._ids))

    def keep_alive_once(self, lease_id, timeout_s):
        return self.ttl

    def lease_revoke(self, lease_id, timeout_s):
        self.revoked.append(lease_id)


class Won:
    def __init__(self, session, since_ms):
        self.session, self.since_ms, self.fence = session, since_ms, f"fence-{session.lease_id}"
        self.leads, self.resigned = True, False

    @property
    def lost(self):
        return self.session.lost

    def still_leads(self):
        return self.leads

    def resign(self):
        self.resigned = True


class Election:
    """Who leads (`found`, or `error`); campaign() wins once per `may_win.set()`, else waits for stop."""

    def __init__(self):
        self.found: list[Candidate] = []
        self.error: Exception | None = None
        self.lookups = 0
        self.may_win = threading.Event()
        self.won: list[Won] = []

    def candidates(self):
        self.lookups += 1
        if self.error is not None:
            raise self.error
        return list(self.found)

    def leader(self):
        found = self.candidates()
        return found[0] if found else None

    def campaign(self, session, name, info, stop):
        while not self.may_win.is_set():
            if stop.wait(0.01):
                raise InterruptedError("campaign stopped")
        self.may_win.clear()
        self.won.append(Won(session, since_ms=777_000 + len(self.won)))
        return self.won[-1]


def candidate(name, address, since_ms=0, started_ms=1):
    return Candidate(name=name, key=name.encode(), create_revision=1, lease=1,
                     info={"address": address, "started_ms": started_ms}, leader_since_ms=since_ms)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def backing(tmp_path):
    store = Backing(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def made():
    return []


def leadership_of(backing, clock, made, **kw) -> PlaneLeadership:
    def make_plane(cache):
        made.append(Plane(cache, clock_ms=clock))
        return made[-1]
    return PlaneLeadership(backing, PlaneIdentity("p1", ME), make_plane, clock_ms=clock, **kw)


@pytest.fixture
def sole(backing, clock, made):
    lead = leadership_of(backing, clock, made)
    yield lead
    lead.stop()


@pytest.fixture
def election():
    return Election()


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def elected(backing, clock, made, election, client):
    lead = leadership_of(backing, clock, made, election=election, client=client, ttl_s=1, store_kind="etcd")
    yield lead
    lead.stop()


def term_over(lead: PlaneLeadership, client: Client, leases: int = 1) -> None:
    """Until the term's end is done: its lease is revoked last (after the Plane stopped and it resigned)."""
    wait_for("the term to end", lambda: lead.term is None and len(client.revoked) >= leases, timeout=30, every=0.02)


def leading(lead: PlaneLeadership):
    return wait_for("a term", lambda: lead.term, timeout=30, every=0.02)


def ended_with(session) -> SessionEnd:
    """How the session was ended (a term's end clears `term` first, then ends the sessions)."""
    seen = []

    def end():
        while not session.outbox.empty():
            seen.append(session.outbox.get_nowait())
        return next((i for i in seen if isinstance(i, SessionEnd)), None)
    return wait_for("the session to end", end, timeout=30, every=0.02)


# -- the sole plane (SQLite) ------------------------------------------------------------------------
def test_before_its_first_term_a_plane_says_it_is_starting(sole, backing):
    assert sole.term is None and sole.store() is backing
    assert sole.refusal() == ("no plane leads right now: the plane is starting", "")
    out = sole.list_planes()
    assert [(p.name, p.address, p.leader) for p in out.planes] == [("p1", ME, False)]
    assert (out.store, out.election, out.answered_by) == ("sqlite", "the plane is starting", "p1")
    with pytest.raises(Unavailable, match="no plane leads right now"):
        CurrentPlane(sole).service.apply


def test_the_sole_plane_leads_over_a_cache_of_its_store(sole, backing, clock, made):
    sole.start()
    assert sole.wait_leading(30)
    term = sole.term
    assert term.since_ms == clock() and term.plane is made[0] and sole.store() is term.store
    assert term.store.backing is backing
    [p] = sole.list_planes().planes
    assert (p.leader, p.leader_since_ms) == (True, clock())
    assert CurrentPlane(sole).current_plane() is made[0]
    CurrentStore(sole).put_node(NodeRecord(name="vm-1"))          # the security layer's writes join the term's
    assert term.store.get_node("vm-1") is not None


def test_stopping_ends_the_term_and_every_agent_session(sole, made):
    sole.start()
    session = leading(sole).plane.hub.open_session(hello("vm-1"))
    sole.stop()
    assert sole.term is None and made[0].stopping
    assert ended_with(session) == SessionEnd(grpc.StatusCode.UNAVAILABLE, "plane p1 no longer leads (the plane is "
                                                                          "stopping); connect to the next plane")
    assert sole.refusal()[0] == "no plane leads right now: plane p1 stopped leading: the plane is stopping"


def test_a_state_that_cannot_be_read_back_ends_the_term_until_the_store_answers(sole, backing, made):
    sole.start()
    first = leading(sole)
    session = first.plane.hub.open_session(hello("vm-1"))
    backing.down = True
    with pytest.raises(StoreError):
        with first.store.transaction():
            first.store.put_node(NodeRecord(name="vm-2"))
    wait_for("the term to end", lambda: sole.term is not first, timeout=30, every=0.02)
    end = ended_with(session)
    assert end.code == grpc.StatusCode.UNAVAILABLE
    assert "the plane's state could not be read back from its store: the store has no quorum" in end.message
    wait_for("a refusal saying why", lambda: sole.refusal()[0] ==
             "no plane leads right now: this plane cannot lead: the store has no quorum", timeout=30, every=0.02)
    assert sole.term is None and len(made) == 1
    backing.down = False
    wait_for("a new term", lambda: sole.term is not None, timeout=30, every=0.02)
    assert len(made) == 2 and made[0].stopping and not made[1].stopping


# -- several planes (an election) -------------------------------------------------------------------
def test_a_follower_names_the_leader_and_its_address(elected, election):
    election.found = [candidate("p2", "10.0.0.2:7070", since_ms=5), candidate("p1", ME)]
    assert elected.refusal() == (f"plane p1 ({ME}) does not lead: plane p2 leads, at 10.0.0.2:7070",
                                 "10.0.0.2:7070")


def test_a_follower_that_the_election_already_names_is_taking_over(elected, election):
    election.found = [candidate("p1", ME, since_ms=5)]
    assert elected.refusal() == ("plane p1 is taking over as leader; try again in a moment", "")


def test_a_candidate_that_has_not_won_is_no_leader(elected, election):
    election.found = [candidate("p2", "10.0.0.2:7070", since_ms=0)]
    assert elected.refusal() == ("no plane leads right now: the plane is starting", "")


def test_a_follower_that_cannot_reach_its_store_says_so(elected, election):
    election.error = StoreError("connection refused")
    assert elected.refusal() == ("no plane leads right now: this plane cannot reach its store: connection refused", "")
    with pytest.raises(Unavailable, match="cannot list the planes: connection refused"):
        elected.list_planes()


def test_the_leader_is_looked_up_at_most_every_leader_cache_s(elected, election, monkeypatch):
    monkeypatch.setattr(mod, "LEADER_CACHE_S", 60.0)
    election.found = [candidate("p2", "10.0.0.2:7070", since_ms=5)]
    elected.refusal()
    elected.refusal()
    assert election.lookups == 1
    monkeypatch.setattr(mod, "LEADER_CACHE_S", 0.0)
    election.found = [candidate("p3", "10.0.0.3:7070", since_ms=9)]
    assert elected.refusal()[1] == "10.0.0.3:7070" and election.lookups == 2


def test_list_planes_shows_every_candidate_the_leader_first(elected, election):
    election.found = [candidate("p2", "10.0.0.2:7070", since_ms=5, started_ms=3), candidate("p1", ME, started_ms=4)]
    out = elected.list_planes()
    assert [(p.name, p.address, p.leader, p.leader_since_ms, p.started_ms) for p in out.planes] == [
        ("p2", "10.0.0.2:7070", True, 5, 3), ("p1", ME, False, 0, 4)]
    assert (out.store, out.election) == ("etcd", "")
    election.found = [candidate("p1", ME)]
    assert elected.list_planes().election == "the plane is starting"


def test_a_won_term_writes_through_the_fenced_store(elected, election, backing):
    elected.start()
    election.may_win.set()
    term = leading(elected)
    assert term.since_ms == 777_000 and term.won is election.won[0]
    assert backing.fences == (election.won[0].fence,)
    assert elected.leader().name == "p1"


def test_a_lost_lease_ends_the_term_without_resigning(elected, election, client, made):
    elected.start()
    election.may_win.set()
    session = leading(elected).plane.hub.open_session(hello("vm-1"))
    client.ttl = 0                                   # etcd answers the next keep-alive: the lease is gone
    term_over(elected, client)
    end = ended_with(session)
    assert end.code == grpc.StatusCode.UNAVAILABLE
    assert "plane p1 no longer leads (its lease is gone (etcd says lease 1 is gone" in end.message
    won = election.won[0]
    assert not won.resigned and client.revoked == [1] and made[0].stopping
    assert "plane p1 stopped leading: its lease is gone" in elected.why_not


def test_a_refused_write_ends_the_term_and_resigns(elected, election, backing, client, made):
    elected.start()
    election.may_win.set()
    term = leading(elected)
    backing.refuse = NotLeaderError("the leader key of election 'planes' is gone: nothing written")
    with pytest.raises(NotLeaderError):
        with term.store.transaction():
            term.store.put_node(NodeRecord(name="vm-2"))
    backing.refuse = None
    term_over(elected, client)
    assert elected.why_not == ("plane p1 stopped leading: the leader key of election 'planes' is gone: "
                               "nothing written")
    assert election.won[0].resigned and client.revoked == [1]
    election.may_win.set()                           # it campaigns again, and may lead again
    wait_for("a second term", lambda: elected.term is not None, timeout=30, every=0.02)
    assert elected.term.won is election.won[1] and len(made) == 2


def test_an_election_key_that_is_gone_ends_the_term(elected, election, client):
    elected.start()
    election.may_win.set()
    leading(elected)
    election.won[0].leads = False
    term_over(elected, client)
    assert elected.why_not == "plane p1 stopped leading: its election key is gone"
    assert election.won[0].resigned
