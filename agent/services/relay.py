"""The relay: how a connection to a service reaches a replica on another node, whatever that
node's network mode (bridge, host, none). Each agent listens on its advertised address and relay
port; a proxy on another node connects there and sends one line naming the replica and the
port it wants:

    ORCH1 <replica id> <incarnation> <target port>\n

The relay checks that the replica runs here as that incarnation and that a service routes to
that port of it, connects to it from inside the container's network namespace (agent.netns,
as the health probes do), and answers `OK\n` before it copies bytes both ways, or
`ERR <why>\n` and closes. The caller waits for the answer, so it can try another endpoint when a
replica is just gone, without the client ever seeing a failed connection.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Callable

from agent.services.splice import splice
from agent.sockets import close_now

log = logging.getLogger("orchestra.agent")

MAGIC = "ORCH1"
MAX_LINE = 512
HANDSHAKE_TIMEOUT_S = 3.0


class RelayRefused(Exception):
    """str(): why (sent to the caller)."""


def header(replica_id: str, incarnation: int, port: int) -> bytes:
    return f"{MAGIC} {replica_id} {incarnation} {port}\n".encode()


def parse_header(line: bytes) -> tuple[str, int, int]:
    parts = line.decode("ascii", "replace").split()
    if len(parts) != 4 or parts[0] != MAGIC or not parts[2].isdigit() or not parts[3].isdigit():
        raise RelayRefused(f"expected '{MAGIC} <replica> <incarnation> <port>'")
    return parts[1], int(parts[2]), int(parts[3])


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed before a whole line")
        data += chunk
        if len(data) > MAX_LINE:
            raise ConnectionError("line too long")
    return data


def dial(address: str, port: int, replica_id: str, incarnation: int, target_port: int,
         timeout: float) -> socket.socket:
    """A socket connected, through the relay at address:port, to the replica's target port.
    Raises OSError (ConnectionError when the relay refused)."""
    sock = socket.create_connection((address, port), timeout=timeout)
    try:
        sock.settimeout(HANDSHAKE_TIMEOUT_S)
        sock.sendall(header(replica_id, incarnation, target_port))
        answer = read_line(sock)
        if answer != b"OK\n":
            raise ConnectionError(f"relay {address}:{port}: {answer.decode(errors='replace').strip()}")
        return sock
    except BaseException:
        sock.close()
        raise


class RelayServer:
    """`connect(replica_id, incarnation, port)` opens the connection to a local replica (raises
    RelayRefused or OSError); `done(replica_id)` is told when a relayed connection ends."""

    def __init__(self, address: str, port: int, connect: Callable[[str, int, int], socket.socket]):
        self.connect = connect
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), name="relay-conn", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(HANDSHAKE_TIMEOUT_S)
            replica_id, incarnation, port = parse_header(read_line(conn))
            upstream = self.connect(replica_id, incarnation, port)
        except (RelayRefused, OSError) as e:
            try:
                conn.sendall(f"ERR {e}\n".encode())
            except OSError:
                pass
            conn.close()
            return
        try:
            conn.sendall(b"OK\n")
        except OSError:
            conn.close()
            upstream.close()
            return
        splice(conn, upstream)

    def close(self) -> None:
        close_now(self.sock)
