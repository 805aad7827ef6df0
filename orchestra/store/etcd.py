"""etcd backend of the store: the plane's state in an etcd cluster, so that several planes can
share it (one leads; see orchestra.store.etcd_election).

Keys (all under a prefix, "/orchestra/" by default, so that several clusters or tests can
share one etcd):
    <prefix><KIND>/<key>            a record: its JSON document (orchestra.store.codec)
    <prefix><KIND>/\\xff             the kind's deletion marker (see "Transactions"); no UTF-8
                                    record key can sort there
    <prefix>_events/<id:020>        an event (JSON)
    <prefix>_event_objects/<obj>/<id:020>   the same event, found by its object
    <prefix>_meta/event_seq         the last event id given (ids grow across restarts and planes)
    <prefix>_commits/<instance>     this store instance's last commit marker (see "Failures")
Record kinds starting with "_" are reserved for these.

Lists: `list(cls, workload=..., node=...)` reads the kind's whole range (pages of
PAGE_SIZE keys at one revision) and filters in Python, after a cheap substring test on the
encoded documents so that only candidates are decoded. Its cost grows with the kind's size, not
with the answer: a secondary index is the next step when that matters.

Transactions are optimistic and atomic in etcd: inside `transaction()` writes are buffered
(reads see them), every key read is remembered with its mod revision, and the commit is ONE
etcd Txn whose compares say that nothing read has changed since: `mod_revision == seen` per key
(0 for a key that was absent) and, per kind listed, `mod_revision < read revision + 1` over
the kind's whole range. A deletion leaves no key to compare, so every delete also rewrites the
kind's deletion marker, which lies inside that range. Within one process, transactions and
writes take one lock (as SQLite's backend does), so they never conflict with each other; reads
outside a transaction do not wait. Another process writing what a transaction read (a second
plane) makes the commit fail with StoreConflictError, which names the keys that changed: the
block cannot be re-run from here, so the caller retries if it wants to (nothing was written).

Fencing: `fenced(fence)` is a view of the same store whose every write also compares that the
fence key (the leader's election key) still exists with the fence's create revision; when it
does not, the write is refused with NotLeaderError and nothing is written.

Limits: a commit is one etcd request, so it must fit etcd's --max-txn-ops (default 128) and
--max-request-bytes (default 1.5 MiB). orchestra's transactions can write thousands of
records at once (binding a scheduling pass, deleting a large workload), so etcd must run with
    --max-txn-ops 10000 --max-request-bytes 33554432
A transaction over `max_txn_ops` writes or compares, or over `max_request_bytes`, is refused
here before anything is sent, with a StoreRequestError that says so.
etcd keeps every revision of every key until it is compacted, and orchestra rewrites records
often (heartbeats, reports, events): run etcd with automatic compaction, e.g.
    --auto-compaction-mode periodic --auto-compaction-retention 5m
or it fills its quota (2 GiB by default) and refuses every write ("database space exceeded").

Failures: every call has a time budget (`timeout_s`, 5 s by default). A member that does not
answer is left for the next; when none answers, StoreUnavailableError says which endpoints
were tried and whether the cluster has a leader. A commit whose answer was lost (the member
died mid-call) is resolved before it is sent again: each commit also writes this instance's
commit marker with a fresh nonce, and the marker tells whether it landed; each commit also
compares the marker's revision with the one its previous commit left, so an attempt that
reaches etcd late (after a resend) cannot apply. So a write is applied once or not at all, and
always whole.
"""
from __future__ import annotations

import json
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import quote

from orchestra.store import codec
from orchestra.store.base import DEFAULT_EVENT_RETENTION, Store
from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.etcd_api import rpc_pb2 as pb
from orchestra.store.etcd_client import (DEFAULT_TIMEOUT_S, EtcdClient, EtcdTLS, StoreCompactedError,
                                         StoreRequestError, StoreUnavailableError, prefix_end)
from orchestra.store.records import EventRecord

DEFAULT_PREFIX = "/orchestra/"
# What orchestra asks etcd to allow (see the module's doc); the store checks before sending.
MAX_TXN_OPS = 10_000
MAX_REQUEST_BYTES = 32 * 1024 * 1024
PAGE_SIZE = 2_000
# Index entries of events past retention are swept in batches, at most every this many events.
EVENT_SWEEP_EVERY = 1_000
_MARKER = b"\xff"
_INDEXED = ("workload", "node")


class StoreConflictError(StoreError):
    """Another writer changed what a transaction read; nothing of the transaction was written."""


class NotLeaderError(StoreError):
    """A fenced write was refused: its fence (the leader's election key) no longer holds."""


@dataclass(frozen=True)
class Fence:
    """Writes through a fenced view hold only while `key` exists with `create_revision`."""
    key: bytes
    create_revision: int
    description: str = ""


@dataclass
class _Txn:
    """The open transaction: buffered writes, what was read, and events to add."""
    writes: dict[bytes, bytes | None] = field(default_factory=dict)      # key -> value, None: delete
    read: dict[bytes, int] = field(default_factory=dict)                 # key -> mod revision seen
    listed: dict[bytes, int] = field(default_factory=dict)               # kind prefix -> revision read at
    deleted_kinds: set[bytes] = field(default_factory=set)
    fences: set[Fence] = field(default_factory=set)
    event_seq: int | None = None                                         # counter value read
    events: list[tuple[int, bytes, str]] = field(default_factory=list)   # (id, json, object)


class _Shared:
    """What the plain store and its fenced views share: one client, one lock, one transaction."""

    def __init__(self, client: EtcdClient):
        self.client = client
        self.lock = threading.RLock()
        self.depth = 0
        self.txn: _Txn | None = None
        self.owner: int | None = None
        self.instance = uuid.uuid4().hex
        self.events_since_sweep = 0
        # Mod revision of this instance's commit marker after its last commit (0: none yet). Every
        # commit compares it, so an attempt that reaches etcd after a later one can never apply.
        self.marker_rev = 0
        # Set when a commit's outcome stayed unknown: it may still land (when quorum returns), so
        # the marker's revision is read again before the next commit.
        self.marker_stale = False


def _event_json(e: EventRecord) -> bytes:
    return json.dumps({"id": e.id, "time_ms": e.time_ms, "kind": e.kind, "object": e.object, "type": e.type,
                       "reason": e.reason, "message": e.message}, separators=(",", ":")).encode()


def _event_from(value: bytes) -> EventRecord:
    d = json.loads(value)
    return EventRecord(d["id"], d["time_ms"], d["kind"], d["object"], d["type"], d["reason"], d["message"])


def _needle(field_name: str, value: str) -> bytes:
    # codec.dumps writes compact JSON with sorted keys: a field appears exactly like this.
    return f'"{field_name}":{json.dumps(value)}'.encode()


class EtcdStore(Store):
    """`endpoints`: ["host:port", ...] of the etcd members; `tls`: the CA and client certificate
    orchestra presents (None: plaintext, for an etcd on a trusted loopback only)."""

    def __init__(self, endpoints: list[str], tls: EtcdTLS | None = None, prefix: str = DEFAULT_PREFIX,
                 event_retention: int = DEFAULT_EVENT_RETENTION, timeout_s: float = DEFAULT_TIMEOUT_S,
                 max_txn_ops: int = MAX_TXN_OPS, max_request_bytes: int = MAX_REQUEST_BYTES,
                 _shared: _Shared | None = None, _fence: Fence | None = None):
        if not prefix.endswith("/"):
            prefix += "/"
        self.prefix = prefix
        self._p = prefix.encode()
        self.event_retention = event_retention
        self.max_txn_ops = max_txn_ops
        self.max_request_bytes = max_request_bytes
        self.fence = _fence
        if _shared is not None:
            self._s = _shared
            return
        client = EtcdClient(endpoints, tls, timeout_s=timeout_s)
        try:
            client.range(self._p + b"_meta/event_seq", what="opening the store")
        except StoreError as exc:
            client.close()
            raise StoreOpenError(f"cannot open the etcd store at {','.join(endpoints)} (prefix {prefix}): {exc}") from exc
        self._s = _Shared(client)
        self._commit_key = self._p + b"_commits/" + self._s.instance.encode()

    @property
    def client(self) -> EtcdClient:
        return self._s.client

    def fenced(self, fence: Fence) -> "EtcdStore":
        """A view of this store whose writes hold only while `fence` does (NotLeaderError)."""
        view = EtcdStore([], prefix=self.prefix, event_retention=self.event_retention, max_txn_ops=self.max_txn_ops,
                         max_request_bytes=self.max_request_bytes, _shared=self._s, _fence=fence)
        view._commit_key = self._commit_key
        return view

    def close(self) -> None:
        if self.fence is not None:
            return  # a view: the store it came from owns the connection
        with self._s.lock:
            try:
                self._s.client.txn(pb.TxnRequest(success=[pb.RequestOp(
                    request_delete_range=pb.DeleteRangeRequest(key=self._commit_key))]), what="close")
            except StoreError:
                pass  # the marker is a few bytes; a later sweep of dead instances is not needed for correctness
            self._s.client.close()

    # -- keys -------------------------------------------------------------------------------------
    def _kind_prefix(self, kind: str) -> bytes:
        if not kind or kind.startswith("_") or "/" in kind:
            raise StoreError(f"record kind {kind!r} is reserved or invalid in the etcd store")
        return self._p + kind.encode() + b"/"

    def _key(self, kind: str, key: str) -> bytes:
        return self._kind_prefix(kind) + key.encode()

    def _events_prefix(self) -> bytes:
        return self._p + b"_events/"

    def _event_key(self, event_id: int) -> bytes:
        return self._events_prefix() + b"%020d" % event_id

    def _object_prefix(self, obj: str) -> bytes:
        return self._p + b"_event_objects/" + quote(obj, safe="").encode() + b"/"

    def _seq_key(self) -> bytes:
        return self._p + b"_meta/event_seq"

    # -- transactions -----------------------------------------------------------------------------
    def _mine(self) -> _Txn | None:
        s = self._s
        return s.txn if s.txn is not None and s.owner == threading.get_ident() else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        s = self._s
        with s.lock:
            if s.depth:
                s.depth += 1
                if self.fence is not None:
                    s.txn.fences.add(self.fence)
                try:
                    yield
                finally:
                    s.depth -= 1
                return
            s.txn, s.owner, s.depth = _Txn(), threading.get_ident(), 1
            if self.fence is not None:
                s.txn.fences.add(self.fence)
            try:
                yield
            except BaseException:
                s.txn, s.owner, s.depth = None, None, 0   # rolled back: nothing was sent
                raise
            txn = s.txn
            s.txn, s.owner, s.depth = None, None, 0
            self._commit(txn)

    @contextmanager
    def _implicit(self) -> Iterator[_Txn]:
        """A single call outside a transaction is a transaction of its own."""
        with self.transaction():
            yield self._s.txn

    def _commit(self, txn: _Txn) -> None:
        if not txn.writes and not txn.events:
            return  # nothing to write: a read-only block needs no commit (its reads were each consistent)
        compare: list[pb.Compare] = []
        for fence in sorted(txn.fences, key=lambda f: (f.key, f.create_revision)):
            compare.append(pb.Compare(key=fence.key, target=pb.Compare.CREATE, result=pb.Compare.EQUAL,
                                      create_revision=fence.create_revision))
        for key, rev in txn.read.items():
            compare.append(pb.Compare(key=key, target=pb.Compare.MOD, result=pb.Compare.EQUAL, mod_revision=rev))
        for kind_prefix, rev in txn.listed.items():
            compare.append(pb.Compare(key=kind_prefix, range_end=prefix_end(kind_prefix), target=pb.Compare.MOD,
                                      result=pb.Compare.LESS, mod_revision=rev + 1))
        ops: list[pb.RequestOp] = []
        for key, value in txn.writes.items():
            if value is None:
                ops.append(pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=key)))
            else:
                ops.append(pb.RequestOp(request_put=pb.PutRequest(key=key, value=value)))
        for kind_prefix in sorted(txn.deleted_kinds):
            ops.append(pb.RequestOp(request_put=pb.PutRequest(key=kind_prefix + _MARKER, value=b"")))
        if txn.events:
            last = txn.events[-1][0]
            for event_id, value, obj in txn.events:
                ops.append(pb.RequestOp(request_put=pb.PutRequest(key=self._event_key(event_id), value=value)))
                ops.append(pb.RequestOp(request_put=pb.PutRequest(key=self._object_prefix(obj) + b"%020d" % event_id,
                                                                  value=value)))
            ops.append(pb.RequestOp(request_put=pb.PutRequest(key=self._seq_key(), value=str(last).encode())))
            oldest_kept = last - self.event_retention + 1
            if oldest_kept > 1:
                ops.append(pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(
                    key=self._events_prefix(), range_end=self._event_key(oldest_kept))))
        if self._s.marker_stale:
            r = self._s.client.range(self._commit_key, what="checking the last commit")
            self._s.marker_rev = r.kvs[0].mod_revision if r.kvs else 0
            self._s.marker_stale = False
        nonce = uuid.uuid4().hex.encode()
        ops.append(pb.RequestOp(request_put=pb.PutRequest(key=self._commit_key, value=nonce)))
        compare.append(pb.Compare(key=self._commit_key, target=pb.Compare.MOD, result=pb.Compare.EQUAL,
                                  mod_revision=self._s.marker_rev))
        if len(ops) > self.max_txn_ops or len(compare) > self.max_txn_ops:
            raise StoreRequestError(
                f"etcd store: a transaction of {len(ops)} writes and {len(compare)} compares exceeds the "
                f"{self.max_txn_ops} operations one etcd transaction may hold; nothing was written "
                f"(etcd must run with --max-txn-ops {self.max_txn_ops})")
        failure = [pb.RequestOp(request_range=pb.RangeRequest(key=f.key)) for f in
                   sorted(txn.fences, key=lambda f: (f.key, f.create_revision))]
        request = pb.TxnRequest(compare=compare, success=ops, failure=failure)
        size = request.ByteSize()
        if size > self.max_request_bytes:
            raise StoreRequestError(
                f"etcd store: a transaction of {size} bytes ({len(ops)} writes) exceeds the {self.max_request_bytes} "
                f"bytes one etcd request may carry; nothing was written (etcd must run with --max-request-bytes "
                f"{self.max_request_bytes})")

        def landed(timeout_s: float) -> bool:
            r = self._s.client.range(self._commit_key, what="checking a commit", timeout_s=timeout_s)
            if r.kvs and r.kvs[0].value == nonce:
                self._s.marker_rev = r.kvs[0].mod_revision
                return True
            return False

        try:
            resp = self._s.client.txn(request, what="commit", resolve=landed)
        except StoreUnavailableError:
            self._s.marker_stale = True
            raise
        if resp is None or resp.succeeded:
            if resp is not None:
                self._s.marker_rev = resp.header.revision
            if txn.events:
                self._after_events(txn.events[-1][0], len(txn.events))
            return
        self._raise_refused(txn, resp, nonce)

    def _raise_refused(self, txn: _Txn, resp: pb.TxnResponse, nonce: bytes) -> None:
        # A lost answer, then a resend refused because the first attempt had landed meanwhile.
        r = self._s.client.range(self._commit_key, what="checking a commit")
        if r.kvs and r.kvs[0].value == nonce:
            self._s.marker_rev = r.kvs[0].mod_revision
            if txn.events:
                self._after_events(txn.events[-1][0], len(txn.events))
            return
        self._s.marker_rev = r.kvs[0].mod_revision if r.kvs else 0
        fences = sorted(txn.fences, key=lambda f: (f.key, f.create_revision))
        for fence, op in zip(fences, resp.responses):
            kvs = op.response_range.kvs
            if not kvs or kvs[0].create_revision != fence.create_revision:
                now = (f"re-created at revision {kvs[0].create_revision}" if kvs else "gone")
                raise NotLeaderError(
                    f"etcd store: write refused: this plane no longer leads ({fence.description or 'leader key'} "
                    f"{fence.key.decode(errors='replace')} of revision {fence.create_revision} is {now}); "
                    "nothing was written")
        changed = []
        for key, rev in txn.read.items():
            got = self._s.client.range(key, keys_only=True, what="finding a conflict")
            now_rev = got.kvs[0].mod_revision if got.kvs else 0
            if now_rev != rev:
                changed.append(key[len(self._p):].decode(errors="replace"))
        for kind_prefix in txn.listed:
            changed.append(kind_prefix[len(self._p):].decode(errors="replace") + "*")
        raise StoreConflictError(
            f"etcd store: another writer changed what this transaction read ({', '.join(changed[:5]) or 'its reads'}"
            f"{' ...' if len(changed) > 5 else ''}); nothing was written, try again")

    # -- reads ------------------------------------------------------------------------------------
    def _read_key(self, key: bytes, txn: _Txn | None) -> bytes | None:
        if txn is not None and key in txn.writes:
            return txn.writes[key]
        r = self._s.client.range(key)
        value = r.kvs[0].value if r.kvs else None
        if txn is not None and key not in txn.read:
            txn.read[key] = r.kvs[0].mod_revision if r.kvs else 0
        return value

    def _scan(self, start: bytes, end: bytes, limit: int = 0) -> tuple[list[tuple[bytes, bytes]], int]:
        """Every (key, value) in [start, end) at one revision (the first `limit` when given),
        read in pages; and that revision."""
        for _ in range(3):
            out: list[tuple[bytes, bytes]] = []
            revision = 0
            key = start
            try:
                while True:
                    page = PAGE_SIZE if not limit else min(PAGE_SIZE, limit - len(out))
                    r = self._s.client.range(key, end, revision=revision, limit=page)
                    revision = revision or r.header.revision
                    out.extend((kv.key, kv.value) for kv in r.kvs)
                    if not r.more or not r.kvs or (limit and len(out) >= limit):
                        return out, revision
                    key = r.kvs[-1].key + b"\0"
            except StoreCompactedError:
                continue  # compacted between pages: read it all again at a newer revision
        raise StoreError("etcd store: a list kept being compacted away while it was read")

    def get(self, cls, key):
        value = self._read_key(self._key(cls.KIND, key), self._mine())
        return codec.loads(cls, value) if value is not None else None

    def list(self, cls, **where):
        for name in where:
            if name not in _INDEXED:
                raise TypeError(f"cannot filter {cls.KIND} on {', '.join(where)}: only workload and node are indexed")
        kind_prefix = self._kind_prefix(cls.KIND)
        rows, revision = self._scan(kind_prefix, prefix_end(kind_prefix))
        txn = self._mine()
        found: dict[bytes, bytes] = {k: v for k, v in rows if not k.endswith(_MARKER)}
        if txn is not None:
            txn.listed.setdefault(kind_prefix, revision)
            for k, v in txn.writes.items():
                if k.startswith(kind_prefix):
                    if v is None:
                        found.pop(k, None)
                    else:
                        found[k] = v
        needles = [_needle(name, value) for name, value in where.items()]
        out = []
        for k in sorted(found):
            v = found[k]
            if needles and not all(n in v for n in needles):
                continue
            rec = codec.loads(cls, v)
            if all(getattr(rec, name, "") == value for name, value in where.items()):
                out.append(rec)
        return out

    # -- writes -----------------------------------------------------------------------------------
    def put(self, record) -> None:
        key = self._key(record.KIND, record.key)
        value = codec.dumps(record).encode()
        with self._implicit() as txn:
            txn.writes[key] = value

    def delete(self, cls, key) -> bool:
        k = self._key(cls.KIND, key)
        # On its own, a delete that lost a race (the record changed under it) simply runs again.
        for _ in range(1 if self._mine() is not None else 20):
            try:
                with self._implicit() as txn:
                    existed = self._read_key(k, txn) is not None
                    if existed:
                        txn.writes[k] = None
                        txn.deleted_kinds.add(self._kind_prefix(cls.KIND))
                    return existed
            except StoreConflictError:
                if self._mine() is not None:
                    raise
        raise StoreConflictError(f"etcd store: could not delete {k.decode(errors='replace')}: "
                                 "other writers kept changing it")

    # -- events -----------------------------------------------------------------------------------
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        if self._mine() is None:
            # On its own, an event is retried when another plane added one first: nothing else was read.
            for _ in range(20):
                try:
                    with self.transaction():
                        return self._add_event(time_ms, kind, obj, type_, reason, message)
                except StoreConflictError:
                    continue
            raise StoreConflictError("etcd store: could not add an event: other planes kept adding theirs first")
        return self._add_event(time_ms, kind, obj, type_, reason, message)

    def _add_event(self, time_ms, kind, obj, type_, reason, message) -> int:
        txn = self._mine()
        if txn.event_seq is None:
            value = self._read_key(self._seq_key(), txn)
            txn.event_seq = int(value) if value else 0
        new_id = txn.event_seq + len(txn.events) + 1
        e = EventRecord(new_id, time_ms, kind, obj, type_, reason, message)
        txn.events.append((new_id, _event_json(e), obj))
        return new_id

    def put_events(self, events) -> None:
        with self._implicit() as txn:
            for e in events:
                txn.events.append((e.id, _event_json(e), e.object))
            txn.event_seq = max([txn.event_seq or 0, *(e.id for e in events)]) - len(txn.events)

    def apply_batch(self, puts, deletes, events) -> None:
        """ONE etcd Txn that reads nothing (its writer holds the state, orchestra.store.cache): blind
        puts and deletes, events with their ids; fenced like any write through this view."""
        s = self._s
        with s.lock:
            txn = _Txn()
            if self.fence is not None:
                txn.fences.add(self.fence)
            for record in puts:
                txn.writes[self._key(record.KIND, record.key)] = codec.dumps(record).encode()
            for cls, key in deletes:
                txn.writes[self._key(cls.KIND, key)] = None
                txn.deleted_kinds.add(self._kind_prefix(cls.KIND))
            for e in events:
                txn.events.append((e.id, _event_json(e), e.object))
            self._commit(txn)

    def _after_events(self, last_id: int, added: int) -> None:
        """Sweeps index entries of events past retention, now and then (their main keys go in
        each commit; entries of a swept-late event are never returned: see list_events)."""
        s = self._s
        s.events_since_sweep += added
        if s.events_since_sweep < min(EVENT_SWEEP_EVERY, max(1, self.event_retention)):
            return
        s.events_since_sweep = 0
        oldest_kept = last_id - self.event_retention + 1
        start = self._p + b"_event_objects/"
        try:
            r = self._s.client.range(start, prefix_end(start), keys_only=True, what="sweeping old events")
            old = [kv.key for kv in r.kvs if int(kv.key.rsplit(b"/", 1)[1]) < oldest_kept]
            for i in range(0, len(old), max(1, self.max_txn_ops - 1)):
                chunk = old[i:i + self.max_txn_ops - 1]
                self._s.client.txn(pb.TxnRequest(success=[pb.RequestOp(
                    request_delete_range=pb.DeleteRangeRequest(key=k)) for k in chunk]), what="sweeping old events",
                    resolve=lambda _t: False)
        except StoreError:
            pass  # the next sweep tries again; nothing depends on it but the space it frees

    def list_events(self, after_id: int = 0, obj: str = "", limit: int = 0) -> list[EventRecord]:
        last = self.last_event_id()
        oldest_kept = max(after_id + 1, last - self.event_retention + 1, 1)
        base = self._object_prefix(obj) if obj else self._events_prefix()
        rows, _ = self._scan(base + b"%020d" % oldest_kept, prefix_end(base), limit=limit)
        events = [_event_from(v) for _, v in rows]
        txn = self._mine()
        if txn is not None:
            for event_id, value, event_obj in txn.events:
                if event_id >= oldest_kept and (not obj or event_obj == obj):
                    events.append(_event_from(value))
        events.sort(key=lambda e: e.id)
        return events[:limit] if limit else events

    def last_event_id(self) -> int:
        txn = self._mine()
        if txn is not None:
            if txn.event_seq is None:
                value = self._read_key(self._seq_key(), txn)
                txn.event_seq = int(value) if value else 0
            return txn.event_seq + len(txn.events)
        r = self._s.client.range(self._seq_key())
        return int(r.kvs[0].value) if r.kvs else 0

