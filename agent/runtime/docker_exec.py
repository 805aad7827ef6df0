"""The byte stream of a Docker exec: the hijacked connection of `POST /exec/{id}/start` and
the 8-byte-header frames Docker multiplexes stdout and stderr into when there is no TTY.

The connection is made here rather than through the docker SDK's `exec_start(socket=True)`:
the SDK reads the HTTP response headers through a buffered reader, which may already hold the
first bytes of the command's output (a fast `echo`), and hands back the socket without them.
Here the headers are read up to their end and whatever followed them is kept.
"""
from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass
from urllib.parse import urlsplit

from agent.sockets import close_now

STDIN, STDOUT, STDERR = 0, 1, 2
HEADER = struct.Struct(">BxxxL")      # stream type, 3 bytes of padding, payload length
_MAX_HEAD = 64 * 1024                 # response headers longer than this are not Docker's


class ExecStartError(RuntimeError):
    """The engine refused to start the exec (no such exec, container not running); str() is its word."""


class FrameParser:
    """Docker's multiplexed stream (no TTY): frames of [type, 0, 0, 0, length (4 bytes, big
    endian)] + payload, type 1 stdout, 2 stderr (0, stdin, is written to stdout as Docker does).
    Bytes arrive in any cut; `feed` returns the complete payload parts so far, in order, and keeps
    the rest. A frame's payload is handed on as it arrives, not held until the frame is whole."""

    def __init__(self):
        self._head = b""
        self._stream = STDOUT
        self._left = 0          # payload bytes of the current frame still to come

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        out: list[tuple[int, bytes]] = []
        view = memoryview(data)
        while view:
            if self._left == 0:
                need = HEADER.size - len(self._head)
                self._head += bytes(view[:need])
                view = view[need:]
                if len(self._head) < HEADER.size:
                    break
                kind, self._left = HEADER.unpack(self._head)
                self._head = b""
                self._stream = STDERR if kind == STDERR else STDOUT
                continue
            part = bytes(view[:self._left])
            view = view[len(part):]
            self._left -= len(part)
            if out and out[-1][0] == self._stream:
                out[-1] = (self._stream, out[-1][1] + part)
            else:
                out.append((self._stream, part))
        return out

    @property
    def pending(self) -> bool:
        """In the middle of a frame (a stream that ends here was cut short)."""
        return bool(self._head) or self._left > 0


@dataclass(frozen=True)
class ResponseHead:
    status: int
    reason: str
    headers: dict[str, str]


def parse_head(raw: bytes) -> ResponseHead:
    """The status line and headers of an HTTP/1.1 response (without the blank line)."""
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ExecStartError(f"the engine answered exec start with {lines[0][:80]!r}, not HTTP")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return ResponseHead(int(parts[1]), parts[2] if len(parts) > 2 else "", headers)


def split_response(buf: bytes) -> tuple[ResponseHead, bytes] | None:
    """(head, the bytes after it) once `buf` holds the whole head, else None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > _MAX_HEAD:
            raise ExecStartError("the engine's answer to exec start has no end of headers")
        return None
    return parse_head(buf[:end]), buf[end + 4:]


def engine_address(base_url: str) -> tuple[int, object]:
    """(address family, address) of a unix:// or tcp:// (http://) Docker host."""
    url = urlsplit(base_url.replace("http+unix://", "unix://", 1))
    if url.scheme == "unix":
        return socket.AF_UNIX, url.path or url.netloc
    if url.scheme in ("tcp", "http"):
        return socket.AF_INET, (url.hostname or "127.0.0.1", url.port or 2375)
    raise ExecStartError(f"exec needs a unix:// or tcp:// Docker host, not {base_url}")


class ExecConnection:
    """The hijacked connection: read the command's output, write its stdin, close stdin alone."""

    def __init__(self, sock: socket.socket, first: bytes):
        self.sock = sock
        self._first = first

    def read(self, limit: int) -> bytes:
        """Up to `limit` bytes as they come; b"" at the end of the stream."""
        if self._first:
            data, self._first = self._first[:limit], self._first[limit:]
            return data
        return self.sock.recv(limit)

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        """The command reads end-of-file (Docker closes its stdin on our half-close)."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        """Also wakes a thread blocked in read()."""
        close_now(self.sock)


def attach(base_url: str, api_version: str, exec_id: str, tty: bool, timeout_s: float = 30.0) -> ExecConnection:
    """Start exec `exec_id` and return its stream. Raises ExecStartError (the engine's refusal)
    or OSError (the engine cannot be reached)."""
    family, address = engine_address(base_url)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout_s)
        sock.connect(address)
        body = json.dumps({"Detach": False, "Tty": tty}).encode()
        sock.sendall((f"POST /v{api_version}/exec/{exec_id}/start HTTP/1.1\r\n"
                      "Host: docker\r\nUser-Agent: orchestra-agent\r\n"
                      "Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                      f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
        buf = b""
        while (split := split_response(buf)) is None:
            data = sock.recv(4096)
            if not data:
                raise ExecStartError("the engine closed the connection before it answered exec start")
            buf += data
        head, rest = split
        if head.status not in (101, 200):
            raise ExecStartError(_refusal(head, rest, sock))
        sock.settimeout(None)   # from here on a read waits for the command, however long it takes
        return ExecConnection(sock, rest)
    except BaseException:
        sock.close()
        raise


def _refusal(head: ResponseHead, body: bytes, sock: socket.socket) -> str:
    """The engine's message ({"message": ...}) of a refused start."""
    length = int(head.headers.get("content-length", "0") or 0)
    while len(body) < min(length, _MAX_HEAD):
        data = sock.recv(4096)
        if not data:
            break
        body += data
    try:
        message = json.loads(body.decode(errors="replace")).get("message", "")
    except (ValueError, AttributeError):
        message = body.decode(errors="replace").strip()
    return message or f"{head.status} {head.reason}".strip()
