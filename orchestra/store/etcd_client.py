"""A small synchronous client of etcd's v3 gRPC API, over the stubs generated from etcd's
own protos (orchestra.store.etcd_api): unary calls with one time budget each, fail-over
between members, the lease keep-alive and watch streams, and errors turned into one-line
StoreErrors.

Why its own client: the etcd3 package fails with protobuf >= 4; aetcd (asyncio) opens only
plaintext channels; etcd3gw (the JSON gateway) talks to one member, costs about twice as much
per call, and its requests session lets REQUESTS_CA_BUNDLE override the etcd CA. gRPC and
protobuf are already the plane's own dependencies.

Members and fail-over: one channel per endpoint, and a current one that calls go to. A call
that finds its member unreachable (UNAVAILABLE) or silent (no answer within its share of the
budget, e.g. a stopped process) moves on to the next member. Reads are simply repeated there;
a write whose outcome is unknown is first resolved by the caller's `resolve` (the store checks
whether its commit marker landed), so that no write is applied twice and none is lost. When no
member answers within the budget, the error says which members were tried and what each said,
and whether the cluster has a leader (StoreUnavailableError: "no quorum").
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import grpc

from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.etcd_api import rpc_pb2 as pb
from orchestra.store.etcd_api import rpc_pb2_grpc as pbg

DEFAULT_TIMEOUT_S = 5.0
# A member that has not answered within this share of the budget is given up for the next one.
MIN_ATTEMPT_S = 1.0
MAX_MESSAGE = 256 * 1024 * 1024
# etcd refuses client pings more often than every 5 s, and any without an open stream.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]


class StoreUnavailableError(StoreError):
    """No etcd member could serve the call in time: the cluster is down or has no quorum."""


class StoreRequestError(StoreError):
    """etcd refused the request itself (too large, too many operations, out of space...)."""


@dataclass(frozen=True)
class EtcdTLS:
    """PEM files: the CA that signed the etcd members, and this client's certificate and key."""
    ca: str
    cert: str
    key: str

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: str, what: str) -> bytes:
            try:
                with open(path, "rb") as f:
                    return f.read()
            except OSError as exc:
                raise StoreOpenError(f"cannot read the etcd {what} {path}: {exc.strerror or exc}") from exc
        return grpc.ssl_channel_credentials(root_certificates=read(self.ca, "CA certificate"),
                                            private_key=read(self.key, "client key"),
                                            certificate_chain=read(self.cert, "client certificate"))


def prefix_end(prefix: bytes) -> bytes:
    """The range end that covers every key starting with `prefix` (etcd's WithPrefix)."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def _describe(exc: grpc.RpcError) -> str:
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else "") or ""
    if code == grpc.StatusCode.DEADLINE_EXCEEDED or "context deadline exceeded" in details:
        return "no answer in time"
    if code == grpc.StatusCode.UNAVAILABLE:
        low = details.lower()
        if "handshake" in low or "ssl" in low or "certificate" in low:
            return f"TLS handshake failed ({details})"
        if "connection refused" in low:
            return "connection refused"
        return details or "unavailable"
    return f"{code.name if code else 'error'}: {details}"


# etcd answers these while it cannot serve writes: another member may, or the cluster has no leader.
_RETRYABLE_DETAILS = ("etcdserver: no leader", "etcdserver: leader changed", "etcdserver: request timed out",
                      "etcdserver: too many requests", "etcdserver: server stopped", "etcdserver: not capable")


def _retryable(exc: grpc.RpcError) -> bool:
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return True
    details = exc.details() or ""
    # The member's own view of our deadline: it gave up on the request as our deadline passed.
    if "context deadline exceeded" in details or "context canceled" in details:
        return True
    return any(details.startswith(d) for d in _RETRYABLE_DETAILS)


def _never_sent(exc: grpc.RpcError) -> bool:
    """The call surely did not reach a member (it could not connect), so sending it again is safe."""
    details = (exc.details() or "").lower()
    return exc.code() == grpc.StatusCode.UNAVAILABLE and (
        "connection refused" in details or "failed to connect" in details or "no address" in details)


def _request_error(exc: grpc.RpcError) -> StoreError:
    details = exc.details() or ""
    if "too many operations in txn request" in details:
        return StoreRequestError(f"etcd refused a transaction with more operations than its --max-txn-ops ({details}); "
                                 "start every etcd member with a larger --max-txn-ops (orchestra needs 10000)")
    if "request is too large" in details or exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "larger than max" in details:
        return StoreRequestError(f"etcd refused a request larger than its --max-request-bytes ({details}); "
                                 "start every etcd member with --max-request-bytes 33554432 or more")
    if "database space exceeded" in details:
        return StoreRequestError(f"etcd is out of space ({details}): compact and defragment it, or raise "
                                 "--quota-backend-bytes, then disarm the NOSPACE alarm")
    if exc.code() == grpc.StatusCode.UNAUTHENTICATED or exc.code() == grpc.StatusCode.PERMISSION_DENIED:
        return StoreRequestError(f"etcd refused orchestra's credentials ({details})")
    return StoreRequestError(f"etcd refused the request: {exc.code().name}: {details}")


class EtcdClient:
    def __init__(self, endpoints: list[str], tls: EtcdTLS | None, timeout_s: float = DEFAULT_TIMEOUT_S):
        if not endpoints:
            raise StoreOpenError("no etcd endpoints given")
        self.endpoints = list(endpoints)
        self.timeout_s = timeout_s
        creds = tls.credentials() if tls is not None else None
        self._channels = [grpc.secure_channel(ep, creds, options=CHANNEL_OPTIONS) if creds is not None
                          else grpc.insecure_channel(ep, options=CHANNEL_OPTIONS) for ep in self.endpoints]
        self._stubs = [(pbg.KVStub(ch), pbg.LeaseStub(ch), pbg.WatchStub(ch), pbg.MaintenanceStub(ch))
                       for ch in self._channels]
        self._current = 0
        self._lock = threading.Lock()
        self._closed = False

    def close(self) -> None:
        self._closed = True
        for ch in self._channels:
            ch.close()

    # -- unary calls with fail-over ---------------------------------------------------------------
    def _call(self, service: int, method: str, request, what: str, write: bool = False,
              resolve: Callable[[float], bool] | None = None, timeout_s: float | None = None):
        """Calls `method` on the current member, moving on to the others as they fail, within
        one budget. For a write (`write=True`) whose outcome became unknown, `resolve()` is
        asked (within a time limit) whether it was applied before it is sent again; without
        `resolve`, a write is sent again only when it surely did not reach a member."""
        budget = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + budget
        tried: list[str] = []
        n = len(self.endpoints)
        start = self._current
        unknown = False
        attempt = 0
        while attempt < 3 * n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            untried = n - attempt if attempt < n else 1
            share = min(remaining, remaining if untried <= 1 else max(MIN_ATTEMPT_S, remaining / untried))
            i = (start + attempt) % n
            attempt += 1
            stub = self._stubs[i][service]
            try:
                if unknown and resolve is not None:
                    # Ask whether the lost attempt was applied before sending it again.
                    if resolve(share):
                        self._current = i
                        return None
                    unknown = False
                    share = min(share, deadline - time.monotonic())
                    if share <= 0:
                        break
                resp = getattr(stub, method)(request, timeout=share)
                self._current = i
                return resp
            except StoreUnavailableError:  # from resolve(): no member could say whether it landed
                tried.append(f"{self.endpoints[i]}: could not tell whether the write landed")
                continue
            except grpc.RpcError as exc:
                if not _retryable(exc):
                    raise _request_error(exc) from None
                tried.append(f"{self.endpoints[i]}: {_describe(exc)}")
                if write and not _never_sent(exc):
                    if resolve is None:
                        raise self._unavailable(what, budget, tried, outcome_unknown=True) from None
                    unknown = True
                time.sleep(min(0.05 * attempt, 0.3, max(0.0, deadline - time.monotonic())))
        raise self._unavailable(what, budget, tried, outcome_unknown=write and unknown)

    def _unavailable(self, what: str, budget: float, tried: list[str], outcome_unknown: bool) -> StoreUnavailableError:
        status = self.cluster_status(timeout_s=0.5)
        leaders = {s.leader for s in status.values() if isinstance(s, pb.StatusResponse) and s.leader}
        answering = [ep for ep, s in status.items() if isinstance(s, pb.StatusResponse)]
        n = len(self.endpoints)
        if not answering:
            state = "no etcd member is reachable"
        elif not leaders:
            state = f"the store has no quorum ({len(answering)} of {n} members answer, none has a leader)"
        else:
            state = (f"the store has no quorum or is overloaded ({len(answering)} of {n} members answer "
                     f"and one leads, but none served the request)")
        members = "; ".join(f"{ep}: {'up' if isinstance(s, pb.StatusResponse) else s}" for ep, s in status.items())
        seen = "; ".join(dict.fromkeys(tried)) or "none"
        tail = (" The write was not confirmed: it applies whole or not at all, never in part." if outcome_unknown
                else "")
        return StoreUnavailableError(f"etcd store: {what} failed after {budget:.1f} s: {state}; members: {members}; "
                                     f"tried: {seen}.{tail}")

    def cluster_status(self, timeout_s: float = 1.0) -> dict[str, object]:
        """Each member's own Status (served without quorum), or what went wrong reaching it."""
        out: dict[str, object] = {}
        for ep, stubs in zip(self.endpoints, self._stubs):
            try:
                out[ep] = stubs[3].Status(pb.StatusRequest(), timeout=timeout_s)
            except grpc.RpcError as exc:
                out[ep] = _describe(exc)
        return out

    # -- KV ---------------------------------------------------------------------------------------
    def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
              keys_only: bool = False, serializable: bool = False, what: str = "read",
              sort_target: int = 0, sort_order: int = 0, max_create_revision: int = 0,
              min_create_revision: int = 0, timeout_s: float | None = None) -> pb.RangeResponse:
        req = pb.RangeRequest(key=key, range_end=range_end, revision=revision, limit=limit, keys_only=keys_only,
                              serializable=serializable, sort_target=sort_target, sort_order=sort_order,
                              max_create_revision=max_create_revision, min_create_revision=min_create_revision)
        try:
            return self._call(0, "Range", req, what, timeout_s=timeout_s)
        except StoreRequestError as exc:
            if "compacted" in str(exc):
                raise StoreCompactedError(str(exc)) from None
            raise

    def txn(self, request: pb.TxnRequest, what: str = "write",
            resolve: Callable[[float], bool] | None = None) -> pb.TxnResponse | None:
        """None: an attempt's outcome was unknown and `resolve` found it applied."""
        return self._call(0, "Txn", request, what, write=True, resolve=resolve)

    # -- leases -----------------------------------------------------------------------------------
    def lease_grant(self, ttl_s: int) -> pb.LeaseGrantResponse:
        # An unconfirmed grant only leaves an unused lease behind, which expires by itself.
        return self._call(1, "LeaseGrant", pb.LeaseGrantRequest(TTL=ttl_s), "lease grant", write=True,
                          resolve=lambda _timeout: False)

    def lease_revoke(self, lease_id: int, timeout_s: float | None = None) -> None:
        try:
            self._call(1, "LeaseRevoke", pb.LeaseRevokeRequest(ID=lease_id), "lease revoke", timeout_s=timeout_s)
        except StoreRequestError as exc:
            if "lease not found" not in str(exc):
                raise

    def lease_time_to_live(self, lease_id: int) -> pb.LeaseTimeToLiveResponse:
        return self._call(1, "LeaseTimeToLive", pb.LeaseTimeToLiveRequest(ID=lease_id), "lease lookup")

    def keep_alive_once(self, lease_id: int, timeout_s: float) -> int:
        """One keep-alive round trip on the current member: the lease's new TTL, <= 0 when the
        lease is gone. Raises StoreUnavailableError when no member answers in time."""
        deadline = time.monotonic() + timeout_s
        tried = []
        for attempt in range(len(self.endpoints)):
            i = (self._current + attempt) % len(self.endpoints)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                responses = self._stubs[i][1].LeaseKeepAlive(iter([pb.LeaseKeepAliveRequest(ID=lease_id)]),
                                                             timeout=remaining)
                for resp in responses:
                    self._current = i
                    return resp.TTL
                return 0
            except grpc.RpcError as exc:
                tried.append(f"{self.endpoints[i]}: {_describe(exc)}")
        raise StoreUnavailableError(f"etcd store: lease keep-alive failed: {'; '.join(tried) or 'no time left'}")

    # -- watch ------------------------------------------------------------------------------------
    def watch(self, key: bytes, range_end: bytes = b"", start_revision: int = 0) -> "Watch":
        return Watch(self, key, range_end, start_revision)


class StoreCompactedError(StoreRequestError):
    """A read at a revision etcd has compacted away."""


class Watch:
    """Events on [key, range_end) from `start_revision` on, read by a thread of its own:
    `get(timeout)` returns the next WatchResponse, or None on timeout; a broken stream is
    raised from `get` as StoreUnavailableError. `cancel()` ends it."""

    def __init__(self, client: EtcdClient, key: bytes, range_end: bytes, start_revision: int):
        self._requests: queue.Queue = queue.Queue()
        self._responses: queue.Queue = queue.Queue()
        self._requests.put(pb.WatchRequest(create_request=pb.WatchCreateRequest(
            key=key, range_end=range_end, start_revision=start_revision)))
        self._client = client
        i = client._current
        self.endpoint = client.endpoints[i]
        self._call = client._stubs[i][2].Watch(self._request_iter())
        self._thread = threading.Thread(target=self._read, name="etcd-watch", daemon=True)
        self._thread.start()

    def _request_iter(self) -> Iterator[pb.WatchRequest]:
        while True:
            item = self._requests.get()
            if item is None:
                return
            yield item

    def _read(self) -> None:
        try:
            for resp in self._call:
                self._responses.put(resp)
        except grpc.RpcError as exc:
            self._responses.put(exc)
        self._responses.put(None)

    def get(self, timeout: float) -> pb.WatchResponse | None:
        try:
            item = self._responses.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        if item is None or isinstance(item, grpc.RpcError):
            detail = _describe(item) if isinstance(item, grpc.RpcError) else "stream ended"
            self._responses.put(None)
            raise StoreUnavailableError(f"etcd store: watch on {self.endpoint} broke: {detail}")
        if item.canceled:
            self._responses.put(None)
            raise StoreUnavailableError(f"etcd store: watch on {self.endpoint} was cancelled by etcd: "
                                        f"{item.cancel_reason or 'compacted' if item.compact_revision else ''}")
        return item

    def cancel(self) -> None:
        self._requests.put(None)
        self._call.cancel()
