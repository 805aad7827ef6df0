"""The plane's state in memory, written through to its backend (SQLite or etcd) in batches.

Why: the plane reads its state far more often than it changes it (every heartbeat, report and
controller pass reads nodes and replicas), and most changes are small (one report, one
heartbeat). Read from a backend, each read is a query and a JSON decode (SQLite) or a network
round trip (etcd); written one by one, each change is an fsync or a round trip. Here reads come
from memory, and changes are written in batches.

- A transaction changes memory at once, under one lock (as the backends' own transactions do:
  other threads wait), and keeps what each record was before, so that an exception puts it
  back. When the outermost block ends, its changes join a queue; a flusher thread writes what
  the queue holds as ONE backend batch (Store.apply_batch: one SQLite transaction, one etcd
  Txn). Many small changes then cost one fsync or one round trip: group commit.
- The thread that committed waits until its batch is written, so an Apply is durable when it
  returns; except threads that must never wait (`never_wait()`: the workers that handle the
  agents' streams), whose writes are reports and heartbeats that agents repeat anyway.
- `flush()` waits until everything committed so far is written, and raises when one of those
  commits failed. A commit that failed before the call is not waited for (memory was read back:
  what it held is gone), so a caller that must know that what it read is written (the publisher
  and the endpoints controller, before they send an agent anything) reads `reloads` before it
  reads, and again after its flush: memory read back in between means what it read may be gone.
- A batch that fails (disk full; NotLeaderError: this plane was deposed; no quorum) fails every
  commit still queued behind it, and the cache reloads itself from the backend: what memory
  held but the backend never got is gone, as if those transactions had failed. When even the
  reload fails, the cache is `broken` and every call raises StoreError until `reload()`
  succeeds (orchestra.server.leadership then ends this plane's term).

Only one cache may write a store at a time: the holder of a cache is the store's only writer
(one plane on SQLite, the leader on etcd: orchestra.server.leadership). It gives event ids
itself and holds every record kind in memory (the PRELOADED ones from the start, any other
from its first use), except PASS_THROUGH kinds (join tokens, which a plane writes when it
starts, leader or not), which are read and written straight through.

Copies: a record read from the cache is a fresh copy: its fields may be set and its own dicts
and lists changed, and it may be put back. What those dicts and lists hold is shared with the
cache and must not be changed in place (nothing in the plane does: such values are replaced).
Readers that change nothing (controller passes, the user API's listings) take `view` and `peek`
instead: the cache's own records, without a copy each (a listing of every node or replica, many
times a second, was the plane's largest cost at 1,000 nodes). The cache never changes a record
it holds (a put stores a copy, a delete drops it), so what a view returned stays as it was.

Subscribers (`subscribe(fn)`) hear of every commit, in the committing thread after the lock is
released: fn([(cls, key, old, new), ...]) with None for a record that did not exist or is gone;
fn(None) after a reload (anything may have changed).
"""
from __future__ import annotations

import bisect
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from orchestra.store.base import DEFAULT_EVENT_RETENTION, Store
from orchestra.store.errors import StoreError
from orchestra.store.records import (ConfigRecord, EndpointsRecord, EventRecord, JoinTokenRecord, NodeRecord,
                                     ReplicaRecord, RevisionRecord, RevokedCertificateRecord, SecretRecord,
                                     ServiceRecord, VolumeRecord, WorkloadRecord)

log = logging.getLogger("orchestra.store")

# Every kind the controllers read on their passes (the publisher reads volumes, configs and secrets on
# each; node records carry their image inventories): no pass waits on a first read from the backend.
PRELOADED = (NodeRecord, WorkloadRecord, ReplicaRecord, RevisionRecord, RevokedCertificateRecord, ServiceRecord,
             EndpointsRecord, ConfigRecord, SecretRecord, VolumeRecord)
PASS_THROUGH = (JoinTokenRecord,)
INDEXED = ("workload", "node")
# A batch holds at most about this many writes (an event counts two), so that it fits one etcd
# Txn (--max-txn-ops 10000); one transaction bigger than that is sent alone.
BATCH_WRITES = 4_000
FLUSHER_IDLE_S = 2.0
# Events beyond retention are dropped from memory in steps of this many.
EVENT_TRIM_STEP = 512

Change = tuple[type, str, Any, Any]

_thread = threading.local()


def never_wait() -> None:
    """This thread's commits return before their batch is written (see the module's doc)."""
    _thread.no_wait = True


@contextmanager
def not_waiting() -> Iterator[None]:
    """This thread's commits inside the block return before their batch is written, as never_wait's
    do (the publisher commits under its own lock this way and waits in flush() after releasing it)."""
    was = getattr(_thread, "no_wait", False)
    _thread.no_wait = True
    try:
        yield
    finally:
        _thread.no_wait = was


def _waits() -> bool:
    return not getattr(_thread, "no_wait", False)


def _same(record: Any) -> Any:
    return record


def _copy(record: Any) -> Any:
    new = object.__new__(type(record))
    d = record.__dict__.copy()
    for name, value in d.items():
        kind = type(value)
        if kind is dict:
            d[name] = dict(value)
        elif kind is list:
            d[name] = list(value)
    new.__dict__ = d
    return new


@dataclass
class _Ticket:
    """One committed transaction on its way to the backend."""
    writes: dict[tuple[type, str], Any]          # final value, None: deleted
    events: list[EventRecord]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    @property
    def size(self) -> int:
        return len(self.writes) + 2 * len(self.events)


@dataclass
class _Open:
    """The open transaction: what each touched record was before it, and the events it added."""
    before: dict[tuple[type, str], Any] = field(default_factory=dict)
    events: list[EventRecord] = field(default_factory=list)
    event_id_before: int = 0


class CachedStore(Store):
    def __init__(self, backing: Store, event_retention: int = DEFAULT_EVENT_RETENTION):
        self.backing = backing
        self.event_retention = event_retention
        self._lock = threading.RLock()
        self._depth = 0
        self._txn: _Open | None = None
        self._owner: int | None = None
        self._writing = False
        self._queue: list[_Ticket] = []
        self._queued = threading.Condition(threading.Lock())
        self._flusher: threading.Thread | None = None
        self._last_ticket: _Ticket | None = None
        self._closing = False
        self._subscribers: list[Callable[[list[Change] | None], None]] = []
        self.broken = ""
        self.reloads = 0        # how many times memory was read back (a reader may compare before and after)
        self.last_failure: BaseException | None = None     # what the last failed batch raised
        self._load()

    # -- loading --------------------------------------------------------------------------------
    def _load(self) -> None:
        kinds = [*PRELOADED, *(getattr(self, "_records", {}).keys() - set(PRELOADED))]
        records: dict[type, dict[str, Any]] = {}
        index: dict[type, dict[str, dict[Any, set[str]]]] = {}
        for cls in kinds:
            records[cls], index[cls] = self._read_kind(cls)
        last = self.backing.last_event_id()
        events = self.backing.list_events(after_id=max(0, last - self.event_retention))
        by_object: dict[str, list[EventRecord]] = {}
        for e in events:
            by_object.setdefault(e.object, []).append(e)
        self._records, self._index = records, index
        self._events, self._by_object, self._last_event_id = events, by_object, last

    def _read_kind(self, cls: type) -> tuple[dict[str, Any], dict[str, dict[Any, set[str]]]]:
        table = {r.key: r for r in self.backing.list(cls)}
        fields = [f for f in INDEXED if f in cls.__dataclass_fields__]
        index: dict[str, dict[Any, set[str]]] = {f: {} for f in fields}
        for key, rec in table.items():
            for f in fields:
                index[f].setdefault(getattr(rec, f), set()).add(key)
        return table, index

    def _table(self, cls: type) -> dict[str, Any]:
        """The kind's records (read from the backend on first use); the caller holds the lock."""
        table = self._records.get(cls)
        if table is None:
            table, self._index[cls] = self._read_kind(cls)
            self._records[cls] = table
        return table

    def reload(self) -> None:
        """Memory again as the backend holds it (after a failed batch, or to leave `broken`)."""
        with self._lock:
            self.reloads += 1
            try:
                self._load()
            except Exception as exc:
                self.broken = f"the plane's state could not be read back from its store: {exc}"
                raise
            self.broken = ""
        self._tell(None)

    def _usable(self) -> None:
        if self.broken:
            raise StoreError(self.broken)

    # -- subscribers ------------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[list[Change] | None], None]) -> None:
        self._subscribers.append(fn)

    def _tell(self, changes: list[Change] | None) -> None:
        for fn in self._subscribers:
            try:
                fn(changes)
            except Exception:   # a subscriber's bug must not fail a commit that is done
                log.exception("store subscriber failed")

    # -- transactions ---------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._usable()
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            txn = self._txn = _Open(event_id_before=self._last_event_id)
            self._depth, self._owner = 1, threading.get_ident()
            try:
                yield
            except BaseException:
                self._depth, self._txn = 0, None
                self._undo(txn)
                raise
            self._depth, self._txn = 0, None
            ticket, changes = self._finish(txn)
        if changes:
            self._tell(changes)
        if ticket is not None and _waits():
            self._wait(ticket)

    @contextmanager
    def _implicit(self) -> Iterator[None]:
        with self.transaction():
            yield

    def _finish(self, txn: _Open) -> tuple[_Ticket | None, list[Change]]:
        """Under the lock: queue what the transaction changed; the changes for subscribers."""
        writes, changes = {}, []
        for (cls, key), old in txn.before.items():
            new = self._table(cls).get(key)
            if new is old:
                continue        # put back as it was
            writes[(cls, key)] = new
            changes.append((cls, key, old, new))
        self._trim_events()
        if not writes and not txn.events:
            return None, changes
        ticket = _Ticket(writes, txn.events)
        with self._queued:
            self._queue.append(ticket)
            self._last_ticket = ticket
            if self._flusher is None and not _waits():     # a waiting committer writes it itself
                self._flusher = threading.Thread(target=self._flush_loop, name="store-flusher", daemon=True)
                self._flusher.start()
            self._queued.notify()
        return ticket, changes

    def _undo(self, txn: _Open) -> None:
        for (cls, key), old in txn.before.items():
            self._set(cls, key, old)
        for e in reversed(txn.events):
            self._events.pop()
            mine = self._by_object.get(e.object)
            if mine:
                mine.pop()
                if not mine:
                    del self._by_object[e.object]
        self._last_event_id = txn.event_id_before

    def _wait(self, ticket: _Ticket) -> None:
        """Until `ticket` is written. A waiting committer writes the queue itself when nobody else is
        writing (no hand-over to another thread), else waits for whoever is."""
        while True:
            with self._queued:
                while not ticket.done.is_set() and (self._writing or not self._queue):
                    self._queued.wait()
                if ticket.done.is_set():
                    break
                batch = self._take()
            self._write_batch(batch)
        if ticket.error is not None:
            raise _failure(ticket.error)

    def flush(self) -> None:
        if self._txn is not None and self._owner == threading.get_ident():
            raise RuntimeError("flush() inside a transaction would wait for itself")
        with self._queued:
            ticket = self._last_ticket
        if ticket is not None:
            self._wait(ticket)
        self._usable()

    # -- writing batches ------------------------------------------------------------------------
    def _take(self) -> list[_Ticket]:
        """The next batch off the queue; the caller holds `_queued` and then writes it."""
        batch, size = [], 0
        while self._queue and (not batch or size + self._queue[0].size <= BATCH_WRITES):
            t = self._queue.pop(0)
            batch.append(t)
            size += t.size
        self._writing = True
        return batch

    def _write_batch(self, batch: list[_Ticket]) -> None:
        writes: dict[tuple[type, str], Any] = {}
        events: list[EventRecord] = []
        for t in batch:
            writes.update(t.writes)
            events.extend(t.events)
        puts = [v for v in writes.values() if v is not None]
        deletes = [k for k, v in writes.items() if v is None]
        try:
            self.backing.apply_batch(puts, deletes, events)
        except BaseException as exc:
            self._failed(batch, exc)
            return
        with self._queued:
            for t in batch:
                t.done.set()
            self._writing = False
            self._queued.notify_all()

    def _flush_loop(self) -> None:
        """Writes batches of commits whose threads do not wait for them (see never_wait)."""
        while True:
            with self._queued:
                idle_since = time.monotonic()
                while not self._queue or self._writing:
                    if not self._queue and (self._closing or time.monotonic() - idle_since >= FLUSHER_IDLE_S):
                        self._flusher = None
                        return
                    self._queued.wait(FLUSHER_IDLE_S)
                batch = self._take()
            self._write_batch(batch)

    def _failed(self, batch: list[_Ticket], exc: BaseException) -> None:
        """Every commit still queued was made on top of the failed one: it fails too, and memory is
        read back from the backend."""
        log.warning("a batch of %d commits could not be written: %s", len(batch), exc)
        self.last_failure = exc
        with self._lock:
            with self._queued:
                failed = batch + self._queue
                self._queue = []
                # A flush from now on waits for nothing of these: memory is read back, so what they held
                # is gone (a flush already waiting for one of them has it, and raises its error).
                self._last_ticket = None
                for t in failed:
                    t.error = exc
                    t.done.set()
                self._writing = False
                self._queued.notify_all()
            try:
                self.reload()
            except Exception as reload_exc:
                log.error("%s", self.broken or reload_exc)

    def close(self) -> None:
        """Writes what is queued and stops the flusher. The backend stays open: its owner closes it."""
        with self._queued:
            self._closing = True
            self._queued.notify_all()
            flusher = self._flusher
        if flusher is not None:
            flusher.join(timeout=30)

    # -- records --------------------------------------------------------------------------------
    def _set(self, cls: type, key: str, new: Any) -> None:
        """Memory only (indexes included); the caller holds the lock."""
        table = self._table(cls)
        old = table.get(key)
        for f, by_value in self._index[cls].items():
            was = getattr(old, f) if old is not None else None
            now = getattr(new, f) if new is not None else None
            if was == now and old is not None and new is not None:
                continue
            if old is not None:
                keys = by_value.get(was)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del by_value[was]
            if new is not None:
                by_value.setdefault(now, set()).add(key)
        if new is None:
            table.pop(key, None)
        else:
            table[key] = new

    def _write(self, cls: type, key: str, new: Any) -> None:
        txn = self._txn
        if (cls, key) not in txn.before:
            txn.before[(cls, key)] = self._table(cls).get(key)
        self._set(cls, key, new)

    def get(self, cls, key):
        if cls in PASS_THROUGH:
            return self.backing.get(cls, key)
        with self._lock:
            self._usable()
            rec = self._table(cls).get(key)
            return _copy(rec) if rec is not None else None

    def list(self, cls, _copied: bool = True, **where):
        if cls in PASS_THROUGH:
            return self.backing.list(cls, **where)
        copy = _copy if _copied else _same
        for name in where:
            if name not in INDEXED:
                raise TypeError(f"cannot filter {cls.KIND} on {', '.join(where)}: only workload and node are indexed")
        with self._lock:
            self._usable()
            table = self._table(cls)
            if not where:
                return [copy(table[k]) for k in sorted(table)]
            keys: set[str] | None = None
            for name, value in where.items():
                found = self._index[cls].get(name, {}).get(value, set()) if name in self._index[cls] else set()
                keys = set(found) if keys is None else keys & found
            return [copy(table[k]) for k in sorted(keys)]

    def view(self, cls, **where):
        """As `list`, but the cache's own records, not copies (Store.view: the caller changes none of
        them). The cache never changes a record it holds: a put or delete replaces it, so a view
        stays as it was read."""
        if cls in PASS_THROUGH:
            return self.backing.list(cls, **where)
        return self.list(cls, _copied=False, **where)

    def peek(self, cls, key):
        if cls in PASS_THROUGH:
            return self.backing.get(cls, key)
        with self._lock:
            self._usable()
            return self._table(cls).get(key)

    def glance(self, cls, key):
        """Without the lock (a dict lookup, atomic under the GIL): None for a kind not in memory yet,
        a pass-through kind, or a broken cache."""
        table = self._records.get(cls)
        if table is None or self.broken:
            return None
        return table.get(key)

    def count(self, cls, **where) -> int:
        """How many records `list` would return, without copying them."""
        with self._lock:
            table = self._table(cls)
            if not where:
                return len(table)
            name, value = next(iter(where.items()))
            if len(where) > 1:
                return len(self.list(cls, **where))
            return len(self._index[cls].get(name, {}).get(value, ()))

    def put(self, record) -> None:
        cls = type(record)
        if cls in PASS_THROUGH:
            self.backing.put(record)
            return
        with self._implicit():
            self._write(cls, record.key, _copy(record))

    def delete(self, cls, key) -> bool:
        if cls in PASS_THROUGH:
            return self.backing.delete(cls, key)
        with self._implicit():
            if key not in self._table(cls):
                return False
            self._write(cls, key, None)
            return True

    # -- events ---------------------------------------------------------------------------------
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        with self._implicit():
            self._last_event_id += 1
            e = EventRecord(self._last_event_id, time_ms, kind, obj, type_, reason, message)
            self._events.append(e)
            self._by_object.setdefault(obj, []).append(e)
            self._txn.events.append(e)
            return e.id

    def put_events(self, events) -> None:
        raise StoreError("a cached store gives event ids itself: use add_event")

    def _trim_events(self) -> None:
        excess = len(self._events) - self.event_retention
        if excess < EVENT_TRIM_STEP:
            return
        dropped, self._events = self._events[:excess], self._events[excess:]
        oldest_kept = self._events[0].id
        for obj in {e.object for e in dropped}:
            mine = self._by_object.get(obj)
            if mine is None:
                continue
            cut = bisect.bisect_left(mine, oldest_kept, key=lambda e: e.id)
            if cut >= len(mine):
                del self._by_object[obj]
            elif cut:
                del mine[:cut]

    def list_events(self, after_id: int = 0, obj: str = "", limit: int = 0) -> list[EventRecord]:
        with self._lock:
            self._usable()
            source = self._by_object.get(obj, []) if obj else self._events
            oldest_kept = max(after_id + 1, self._last_event_id - self.event_retention + 1)
            start = bisect.bisect_left(source, oldest_kept, key=lambda e: e.id)
            end = start + limit if limit else len(source)
            return list(source[start:end])

    def last_event_id(self) -> int:
        with self._lock:
            self._usable()
            return self._last_event_id


def _failure(exc: BaseException) -> BaseException:
    """What a waiting committer raises when its batch failed: the backend's own StoreError (its message
    says what to do), anything else as a StoreError."""
    if isinstance(exc, StoreError):
        return type(exc)(str(exc))
    return StoreError(f"the plane's state could not be written: {exc}")
