"""The node's DNS responder for service names: every container has it as its only nameserver
(orchestra.service_network.DNS_ADDRESS, search domain `orchestra`), so `web` and
`web.orchestra` resolve to service web's virtual address, also in containers that were started
before the service existed: the answer comes from the routes of the moment.

Hand-written (RFC 1035, UDP, A records only) rather than a DNS library: a query is a header and
one question, and the agent stays small. A service name answers A with its address (TTL 5 s, so
nothing is cached for long) and AAAA/other types with no records; every other name is NXDOMAIN
(the cluster has no upstream resolver to ask: nothing leaves the node).
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
from typing import Callable

from agent.sockets import close_now

log = logging.getLogger("orchestra.agent")

TYPE_A = 1
TYPE_ANY = 255
CLASS_IN = 1
TTL_S = 5
RCODE_FORMERR = 1
RCODE_NXDOMAIN = 3
RCODE_NOTIMP = 4
MAX_UDP = 512


class BadQuery(ValueError):
    pass


def parse_question(data: bytes) -> tuple[int, int, str, int, int, int]:
    """(id, flags, name, qtype, qclass, end of the question) of a query; raises BadQuery."""
    if len(data) < 12:
        raise BadQuery("shorter than a header")
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if qdcount != 1:
        raise BadQuery(f"{qdcount} questions")
    labels, i = [], 12
    while True:
        if i >= len(data):
            raise BadQuery("name runs past the end")
        n = data[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 or i + 1 + n > len(data):
            raise BadQuery("bad label")
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 4 > len(data):
        raise BadQuery("question cut short")
    qtype, qclass = struct.unpack("!HH", data[i:i + 4])
    return qid, flags, ".".join(labels).lower(), qtype, qclass, i + 4


def answer(data: bytes, lookup: Callable[[str], str | None]) -> bytes | None:
    """The response to one query (None: not worth answering). `lookup(name)` -> IPv4 or None."""
    try:
        qid, flags, name, qtype, qclass, end = parse_question(data)
    except BadQuery:
        if len(data) >= 2:
            return struct.pack("!HHHHHH", struct.unpack("!H", data[:2])[0], 0x8000 | RCODE_FORMERR, 0, 0, 0, 0)
        return None
    if flags & 0x8000:
        return None                          # a response, not a query
    question = data[12:end]
    rd = flags & 0x0100
    opcode = (flags >> 11) & 0xF
    if opcode != 0:
        return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | RCODE_NOTIMP, 1, 0, 0, 0) + question
    address = lookup(name) if qclass in (CLASS_IN, TYPE_ANY) else None
    if address is None:
        return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | RCODE_NXDOMAIN, 1, 0, 0, 0) + question
    records = b""
    count = 0
    if qtype in (TYPE_A, TYPE_ANY):
        records = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, TTL_S, 4) + socket.inet_aton(address)
        count = 1
    # AA, RA: this responder is the authority for the names it knows.
    return struct.pack("!HHHHHH", qid, 0x8000 | 0x0400 | rd | 0x0080, 1, count, 0, 0) + question + records


class DnsServer:
    """Answers on UDP `address`:53 in a thread of its own until closed."""

    def __init__(self, address: str, lookup: Callable[[str], str | None], port: int = 53):
        self.lookup = lookup
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, port))
        self._thread = threading.Thread(target=self._serve, name="dns", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return                           # closed
            try:
                reply = answer(data, self.lookup)
                if reply is not None:
                    self.sock.sendto(reply[:MAX_UDP], peer)
            except OSError as e:
                log.debug("dns: cannot answer %s: %s", peer, e)

    def close(self) -> None:
        close_now(self.sock)
