"""The local web server of `orchestra ui`: the page's files, a live stream, and a few read-only
JSON look-ups, all answered with the user's own credentials (the way `kubectl proxy` works), so
the plane's own network surface stays what it is.

The standard library's threading HTTP server is enough here: one user, a few tabs, one thread per
open stream; it costs the CLI no dependency and no start-up time. Everything is read-only (GET),
so no other site can change the cluster through it; and a request whose Host header is not this
server's own address is refused, so that a web page cannot read it through DNS rebinding.

    /                     the page (orchestra/ui/static/index.html)
    /static/NAME          its script and style sheet
    /api/stream           server-sent events: `status`, `state` (nodes, workloads, replicas), `events`
    /api/state            the newest state, once
    /api/workload?name=W  DescribeWorkload + ListRevisions + GetRollout
    /api/replica?id=R     the replica in full (its whole placement explanation) + its events
    /api/node?name=N      DescribeNode
    /api/events?object=O  ListEvents for one object
    /api/logs?replica=R&tail=N   the last lines of its container's output
"""
from __future__ import annotations

import json
import logging
import mimetypes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import grpc

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.output import message_dict
from orchestra.ui.feed import ClusterFeed, Seen
from orchestra.ui.snapshot import replica_view, workload_view

log = logging.getLogger("orchestra.ui")

STREAM_KEEPALIVE_S = 15.0
LOG_TAIL_DEFAULT = 200
LOG_BYTES_MAX = 256 * 1024
LOOKUP_TIMEOUT_S = 10.0
# The page runs only what it brings itself: no inline script, nothing from anywhere else.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def static_files() -> dict[str, bytes]:
    """name -> content of every file the page is made of (shipped as package data)."""
    folder = resources.files("orchestra.ui").joinpath("static")
    return {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """The Host headers this server answers (None: any, when it listens on every address)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    names = {host, f"[{host}]" if ":" in host else host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return {f"{n}:{port}" for n in names} | ({n for n in names} if port == 80 else set())


class LookupFailed(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class UiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, target, feed: ClusterFeed):
        self.target = target
        self.feed = feed
        self.files = static_files()
        super().__init__((host, port), Handler)
        self.hosts = allowed_hosts(host, self.server_address[1])

    @property
    def port(self) -> int:
        return self.server_address[1]

    def call(self, method: str, request, timeout: float = LOOKUP_TIMEOUT_S):
        """A unary call for a look-up; a failure becomes LookupFailed with the CLI's one-line reason."""
        try:
            return getattr(self.target.stub(), method)(request, timeout=timeout)
        except grpc.RpcError as e:
            raise LookupFailed(404 if e.code() == grpc.StatusCode.NOT_FOUND else 502,
                               self.target.failure(e).format_message()) from None

    # -- look-ups ------------------------------------------------------------------------------
    def workload(self, name: str) -> dict:
        d = self.call("DescribeWorkload", pb.DescribeRequest(name=name))
        revisions = self.call("ListRevisions", pb.RolloutRequest(workload=name))
        rollout = self.call("GetRollout", pb.RolloutRequest(workload=name))
        return {"workload": workload_view(d.workload), "replicas": [replica_view(r, full=True) for r in d.replicas],
                "events": [message_dict(e) for e in d.events], "rollout": message_dict(rollout),
                "revisions": [message_dict(r) for r in revisions.revisions], "current_revision": revisions.current}

    def replica(self, replica_id: str) -> dict:
        workload = replica_id.rsplit("-", 1)[0] if "-" in replica_id else replica_id
        found = [r for r in self.call("ListReplicas", pb.ListReplicasRequest(workload=workload)).replicas
                 if r.id == replica_id]
        if not found:
            raise LookupFailed(404, f"replica {replica_id!r} not found")
        events = self.call("ListEvents", pb.ListEventsRequest(object=replica_id, limit=100)).events
        return {"replica": replica_view(found[0], full=True), "events": [message_dict(e) for e in events]}

    def node(self, name: str) -> dict:
        d = self.call("DescribeNode", pb.DescribeRequest(name=name))
        return {"node": message_dict(d.node), "replicas": [replica_view(r) for r in d.replicas],
                "events": [message_dict(e) for e in d.events]}

    def events(self, obj: str) -> dict:
        return {"events": [message_dict(e) for e in
                           self.call("ListEvents", pb.ListEventsRequest(object=obj, limit=200)).events]}

    def logs(self, replica_id: str, tail: int) -> dict:
        workload = replica_id.rsplit("-", 1)[0] if "-" in replica_id else replica_id
        request = pb.LogsRequest(workload=workload, replica=replica_id, follow=False, tail=tail)
        data, truncated = bytearray(), False
        try:
            for chunk in self.target.stub().Logs(request, timeout=LOOKUP_TIMEOUT_S):
                data += chunk.data
                if len(data) > LOG_BYTES_MAX:
                    del data[:len(data) - LOG_BYTES_MAX]
                    truncated = True
        except grpc.RpcError as e:
            status = 404 if e.code() == grpc.StatusCode.NOT_FOUND else \
                409 if e.code() == grpc.StatusCode.FAILED_PRECONDITION else 502
            raise LookupFailed(status, self.target.failure(e).format_message()) from None
        return {"replica": replica_id, "text": data.decode("utf-8", "replace"), "truncated": truncated}


class Handler(BaseHTTPRequestHandler):
    server: UiServer
    server_version = "orchestra-ui"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args) -> None:
        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self) -> None:   # noqa: N802 - http.server's name
        hosts = self.server.hosts
        if hosts is not None and self.headers.get("Host", "") not in hosts:
            self._send(403, "text/plain; charset=utf-8",
                       b"orchestra ui: this server answers only requests for its own address\n")
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        path = url.path
        try:
            if path in ("/", "/index.html"):
                self._file("index.html")
            elif path.startswith("/static/"):
                self._file(path[len("/static/"):])
            elif path == "/api/stream":
                self._stream()
            elif path == "/api/state":
                state = self.server.feed.state_json
                if not state:
                    raise LookupFailed(503, self.server.feed.status)
                self._send(200, "application/json", state.encode())
            elif path == "/api/workload":
                self._json(self.server.workload(_required(query, "name")))
            elif path == "/api/replica":
                self._json(self.server.replica(_required(query, "id")))
            elif path == "/api/node":
                self._json(self.server.node(_required(query, "name")))
            elif path == "/api/events":
                self._json(self.server.events(query.get("object", "")))
            elif path == "/api/logs":
                tail = query.get("tail", str(LOG_TAIL_DEFAULT))
                if not tail.isdigit():
                    raise LookupFailed(400, f"tail must be a number of lines, not {tail!r}")
                self._json(self.server.logs(_required(query, "replica"), int(tail)))
            else:
                raise LookupFailed(404, f"nothing at {path}")
        except LookupFailed as exc:
            self._json({"error": str(exc)}, exc.status)
        except (BrokenPipeError, ConnectionResetError):
            pass      # the tab went away

    # -- answers ---------------------------------------------------------------------------------
    def _send(self, status: int, content_type: str, body: bytes, cache: str = "no-store") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, data: dict, status: int = 200) -> None:
        self._send(status, "application/json", json.dumps(data, separators=(",", ":")).encode())

    def _file(self, name: str) -> None:
        body = self.server.files.get(name)
        if body is None:
            raise LookupFailed(404, f"no file {name!r}")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
            kind += "; charset=utf-8"
        self._send(200, kind, body, cache="no-cache")

    def _stream(self) -> None:
        """Server-sent events until the tab goes away; the browser reconnects by itself (retry)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for k, v in SECURITY_HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        self.close_connection = True
        seen = Seen()
        with self.server.feed.watching() as feed:
            self.wfile.write(b"retry: 2000\n\n")
            while not feed.stopped:
                for name, data in feed.take(seen):
                    self.wfile.write(f"event: {name}\ndata: {data}\n\n".encode())
                self.wfile.flush()
                if not feed.wait(seen, STREAM_KEEPALIVE_S):
                    self.wfile.write(b": keep-alive\n\n")


def _required(query: dict, name: str) -> str:
    value = query.get(name, "")
    if not value:
        raise LookupFailed(400, f"the query needs {name}=")
    return value
