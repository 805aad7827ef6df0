"""The node's service data path: routes by the newest Endpoints revision the plane sent, answers
names (dns), accepts connections to services' virtual addresses and published ports (proxy),
and takes relayed connections for this node's replicas (relay).

A connection to a service goes to its endpoints in turn; an endpoint that cannot be reached (a
replica just gone, a node lost, a relay that refuses) is skipped for the next one before a
byte of the client's is sent, so a client sees a failure only when none answers. A retired
replica leaves the routes of every node before its container is stopped (the plane waits for
every node's acknowledgement), and then its open connections get up to half its grace period
to finish before SIGTERM (`drain`).
"""
from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time
from collections import Counter
from typing import Callable

from agent import netns
from agent.services.proxy import Key, Listeners
from agent.services.relay import RelayRefused, RelayServer, dial
from agent.services.routes import Routes, Target
from agent.services.splice import splice
from orchestra.api import agent_pb2
from orchestra.service_network import DNS_ADDRESS

log = logging.getLogger("orchestra.agent")

CONNECT_TIMEOUT_S = 1.0
MAX_TRIES = 4


def _own_netns() -> int:
    try:
        return os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return -1


class DataPath:
    def __init__(self, node: str, container: Callable[[str], object | None], advertise_address: str,
                 relay_port: int, dns_address: str = DNS_ADDRESS, dns_port: int = 53):
        """`container(replica_id)`: the replica's running Container (agent.reconciler) or None."""
        self.node = node
        self.container = container
        self.dns_address = dns_address
        self.dns_port = dns_port
        self.routes = Routes()
        self.relay = RelayServer(advertise_address, relay_port, self._relayed)
        self._listeners: Listeners | None = None
        self._dns = None
        self._open: Counter = Counter()        # container id -> connections to it in progress
        self._turns: dict[str, itertools.count] = {}   # service -> its connections (round robin)
        self._lock = threading.Condition()
        self._netns = _own_netns()

    @property
    def relay_port(self) -> int:
        return self.relay.port

    @property
    def revision(self) -> int:
        return self.routes.revision

    def offer(self, msg: agent_pb2.Endpoints) -> bool:
        """Route by `msg` unless it is older than what is routed by; True when it is new."""
        if msg.revision < self.routes.revision:
            return False
        new = msg.revision != self.routes.revision
        routes = Routes.of(msg)
        if routes.names and self._dns is None:
            from agent.services.dns import DnsServer
            try:
                self._dns = DnsServer(self.dns_address, lambda name: self.routes.lookup(name), self.dns_port)
            except OSError as e:
                log.warning("service names cannot be answered at %s:%d: %s", self.dns_address, self.dns_port, e)
        if self._listeners is None and routes.listeners:
            self._listeners = Listeners(self._serve)
        self.routes = routes
        if self._listeners is not None:
            self._listeners.update(routes.listeners)
        if new:
            log.info("endpoints revision %d: %d services, %d endpoints", msg.revision, len(msg.services),
                     sum(len(s.endpoints) for s in msg.services))
        return new

    # -- connections ----------------------------------------------------------------------
    def _serve(self, conn: socket.socket, key: Key) -> None:
        routes = self.routes
        listen = routes.listeners.get(key)
        upstream = None
        if listen is not None:
            turn = next(self._turns.setdefault(listen.service, itertools.count()))
            for target in routes.order(listen.service, turn)[:MAX_TRIES]:
                try:
                    upstream = self._connect(target, listen.target_port)
                    break
                except (OSError, RelayRefused) as e:
                    log.info("service %s: skipped %s on %s: %s", listen.service, target.replica_id, target.node, e)
        if upstream is None:
            conn.close()
            return
        splice(conn, upstream)

    def _connect(self, target: Target, port: int) -> socket.socket:
        if target.node == self.node:
            return self._local(target.replica_id, target.incarnation, port, check_routes=False)
        return dial(target.address, target.relay_port, target.replica_id, target.incarnation, port,
                    CONNECT_TIMEOUT_S)

    def _relayed(self, replica_id: str, incarnation: int, port: int) -> socket.socket:
        return self._local(replica_id, incarnation, port, check_routes=True)

    def _local(self, replica_id: str, incarnation: int, port: int, check_routes: bool) -> socket.socket:
        if check_routes and port not in self.routes.target_ports.get(replica_id, ()):
            raise RelayRefused(f"no service routes to {replica_id} port {port}")
        c = self.container(replica_id)
        if c is None or c.incarnation != incarnation:
            raise RelayRefused(f"{replica_id} (incarnation {incarnation}) does not run on {self.node}")
        sock = self._connect_container(c, port)
        return _Counted(sock, self, c.id)

    def _connect_container(self, c, port: int) -> socket.socket:
        try:
            same = c.pid and os.stat(f"/proc/{c.pid}/ns/net").st_ino == self._netns
        except OSError:
            same = False
        if same:        # host network: the container listens in this very namespace
            return socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
        try:
            return netns.connect(c.pid, c.ip, port, CONNECT_TIMEOUT_S).sock
        except netns.ConnectFailed as e:
            raise RelayRefused(f"{c.replica_id}: {e}") from e

    def _opened(self, container_id: str) -> None:
        with self._lock:
            self._open[container_id] += 1

    def _closed(self, container_id: str) -> None:
        with self._lock:
            self._open[container_id] -= 1
            if self._open[container_id] <= 0:
                del self._open[container_id]
            self._lock.notify_all()

    def drain(self, container_id: str, timeout_s: float) -> int:
        """Wait until no service connection to the container is open, at most `timeout_s`;
        returns how many were still open."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while self._open.get(container_id, 0) > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            return self._open.get(container_id, 0)

    def close(self) -> None:
        self.relay.close()
        if self._listeners is not None:
            self._listeners.close()
        if self._dns is not None:
            self._dns.close()


class _Counted(socket.socket):
    """A socket to a local replica that tells the data path when it is closed (for drain)."""

    def __init__(self, sock: socket.socket, path: DataPath, container_id: str):
        super().__init__(sock.family, sock.type, sock.proto, fileno=sock.detach())
        self._path = path
        self._container_id = container_id
        self._counted = True
        path._opened(container_id)

    def close(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            self._path._closed(self._container_id)
        super().close()
