"""A small client of the Docker Engine API: HTTP/1.1 (http.client) over the engine's unix socket,
or plain tcp://, with JSON bodies. Only what agent.runtime.docker asks of the engine.

It replaces the docker SDK in the agent: the SDK with requests and urllib3 cost the agent about
4.7 MiB of resident memory for a dozen endpoints (bench/agent_memory.py). The CLI and the tests
still use the SDK; the agent does not import it.

Errors: `EngineError` (an HTTP status of 400 or more; `NotFound` for 404), whose str() is the
engine's own message; OSError (the socket: missing, refused, timed out, reset) and
http.client.HTTPException (a broken answer) when the engine cannot be reached.

Connections are kept for reuse (a few idle ones, checked before reuse: the engine closes idle
ones), so that listing and inspecting containers every second opens no new connection.
"""
from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from typing import Any, Iterable, Iterator
from urllib.parse import quote, urlencode

from agent.runtime import docker_exec
from agent.sockets import close_now

_MAX_IDLE = 4            # idle connections kept for reuse
_READ = 64 * 1024        # a streamed answer's reads


class EngineError(Exception):
    """The engine refused a request; str() is its message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.explanation = message


class NotFound(EngineError):
    """404: no such container, image, volume or exec."""


def url_problem(base_url: str) -> str | None:
    """Why `base_url` is not an engine address this client can use (None when it is)."""
    try:
        engine_address(base_url)
    except ValueError as e:
        return str(e)
    return None


def engine_address(base_url: str) -> tuple[int, Any]:
    """(socket.AF_UNIX, path) or (socket.AF_INET, (host, port)) of a unix:// or tcp:// (http://)
    engine address, as exec's own connection makes it (docker_exec.engine_address)."""
    try:
        family, address = docker_exec.engine_address(base_url)
    except (docker_exec.ExecStartError, ValueError):
        family, address = None, None
    if not address or (family == socket.AF_INET and not address[0]):
        raise ValueError(f"{base_url!r} is not a Docker engine address the agent can use: "
                         "unix:///PATH or tcp://HOST:PORT (plain, without TLS)")
    return family, address


class _Connection(http.client.HTTPConnection):
    """An HTTP/1.1 connection to the engine, over its unix socket or TCP."""

    def __init__(self, family: int, address: Any, timeout: float | None):
        host, port = ("localhost", None) if family == socket.AF_UNIX else address
        super().__init__(host, port, timeout=timeout)
        self._family, self._address = family, address

    def connect(self) -> None:
        if self._family != socket.AF_UNIX:
            super().connect()
            return
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._address)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _dropped(conn: _Connection) -> bool:
    """The engine closed this idle connection (or sent something unasked): not reusable."""
    if conn.sock is None:
        return True
    try:
        p = select.poll()
        p.register(conn.sock, select.POLLIN)
        return bool(p.poll(0))
    except (OSError, ValueError):
        return True


class Stream:
    """A streamed answer (logs, an image load's progress): its bytes as they come. close() may be
    called from another thread: it ends the stream at once (a follow of logs that would wait). Only
    the thread that reads touches the answer; close() shuts the socket down under it."""

    def __init__(self, response: http.client.HTTPResponse, conn: _Connection, multiplexed: bool = False):
        self._response = response
        self._conn = conn
        self._sock = conn.sock
        self._multiplexed = multiplexed
        self._lock = threading.Lock()
        self._closed = False
        self._reading = False

    def __iter__(self) -> Iterator[bytes]:
        parser = docker_exec.FrameParser() if self._multiplexed else None
        with self._lock:
            if self._closed or self._reading:
                return
            self._reading = True
        try:
            while True:
                try:
                    data = self._response.read1(_READ)
                except (OSError, ValueError, http.client.HTTPException):
                    if self._closed:
                        return       # closed by close(), from another thread
                    raise
                if not data:
                    return
                if parser is None:
                    yield data
                    continue
                for _kind, part in parser.feed(data):
                    yield part
        finally:
            with self._lock:
                self._reading, self._closed = False, True
            self._conn.close()

    def close(self) -> None:
        with self._lock:
            if self._closed and not self._reading:
                return
            self._closed = True
            reading = self._reading
        if self._sock is not None:
            close_now(self._sock)        # wakes the thread blocked reading it (which then cleans up)
        if not reading:
            self._conn.close()


class EngineClient:
    """Thread-safe: each request takes an idle connection or opens one."""

    def __init__(self, base_url: str, version: str, timeout_s: float = 30):
        self._family, self._address = engine_address(base_url)
        self.version = version
        self.timeout_s = timeout_s
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()

    # -- requests ------------------------------------------------------------------------------

    def get(self, path: str, params: dict | None = None, timeout: float | None = None) -> Any:
        return self._json(self._call("GET", path, params, timeout=timeout))

    def post(self, path: str, params: dict | None = None, body: Any = None, timeout: float | None = None) -> Any:
        return self._json(self._call("POST", path, params, body, timeout=timeout))

    def delete(self, path: str, params: dict | None = None) -> Any:
        return self._json(self._call("DELETE", path, params))

    def stream(self, method: str, path: str, params: dict | None = None, body: Any = None,
               timeout: float | None = None, multiplexed: bool = False, read_timeout: bool = True) -> Stream:
        """The answer as a Stream, once its head says the request was accepted. `read_timeout`
        False: reads wait as long as it takes (a follow of logs)."""
        response, conn = self._send(method, path, params, body, timeout)
        if response.status >= 400:
            _raise(response, conn)
        if not read_timeout and conn.sock is not None:
            conn.sock.settimeout(None)
        return Stream(response, conn, multiplexed)

    # -- the rest ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, params: dict | None = None, body: Any = None,
              timeout: float | None = None) -> bytes:
        response, conn = self._send(method, path, params, body, timeout)
        if response.status >= 400:
            _raise(response, conn)
        try:
            data = response.read()
        except BaseException:
            conn.close()
            raise
        self._release(conn, response)
        return data

    def _send(self, method: str, path: str, params: dict | None, body: Any,
              timeout: float | None) -> tuple[http.client.HTTPResponse, _Connection]:
        url = f"/v{self.version}{path}"
        if params:
            url += "?" + urlencode({k: v for k, v in params.items() if v is not None})
        headers = {"User-Agent": "orchestra-agent"}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif body is not None and not isinstance(body, (bytes, bytearray)):
            headers["Content-Type"] = "application/x-tar"    # an iterable of bytes: sent chunked
        conn = self._take(self.timeout_s if timeout is None else timeout)
        try:
            conn.request(method, url, body=body, headers=headers)
            return conn.getresponse(), conn
        except BaseException:
            conn.close()     # also what aborts an upload whose bytes stopped coming
            raise

    def _take(self, timeout: float) -> _Connection:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return _Connection(self._family, self._address, timeout)
            if _dropped(conn):
                conn.close()
                continue
            conn.timeout = timeout
            conn.sock.settimeout(timeout)
            return conn

    def _release(self, conn: _Connection, response: http.client.HTTPResponse) -> None:
        if response.will_close or conn.sock is None:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    @staticmethod
    def _json(data: bytes) -> Any:
        return json.loads(data) if data.strip() else None


def _raise(response: http.client.HTTPResponse, conn: _Connection) -> None:
    """An error answer ({"message": ...}) as an EngineError; the connection is not reused."""
    try:
        body = response.read(64 * 1024)
    except (OSError, http.client.HTTPException):
        body = b""
    finally:
        conn.close()
    try:
        message = json.loads(body).get("message") or ""
    except (ValueError, AttributeError):
        message = body.decode(errors="replace").strip()
    message = message or f"{response.status} {response.reason}".strip()
    raise (NotFound if response.status == 404 else EngineError)(response.status, message)


def path(fmt: str, *args: str) -> str:
    """A request path with its parts quoted (image names keep their / and :)."""
    return fmt.format(*(quote(a, safe="/:") for a in args))


def filters(f: dict[str, Iterable[str] | str]) -> str:
    """Docker's `filters` query parameter: {"label": ["a=b", ...]} as JSON."""
    return json.dumps({k: [v] if isinstance(v, str) else list(v) for k, v in f.items()})


def json_stream(stream: Iterable[bytes]) -> Iterator[dict]:
    """The JSON objects of a streamed answer (an image load's progress), however they are cut."""
    decoder = json.JSONDecoder()
    buf = ""
    for data in stream:
        buf += data.decode(errors="replace")
        while True:
            buf = buf.lstrip()
            if not buf:
                break
            try:
                obj, end = decoder.raw_decode(buf)
            except ValueError:
                break            # incomplete: wait for more
            buf = buf[end:]
            if isinstance(obj, dict):
                yield obj
    if buf.strip():
        obj = json.loads(buf)    # ValueError: the engine's answer broke off
        if isinstance(obj, dict):
            yield obj
