"""The pure parts of the node's service data path: DNS answers and the routes of an Endpoints message."""
from __future__ import annotations

import socket
import struct

from agent.services.dns import RCODE_NXDOMAIN, answer, parse_question
from agent.services.relay import RelayRefused, header, parse_header
from agent.services.routes import Routes
from orchestra.api import agent_pb2, types_pb2

import pytest


def query(name: str, qtype: int = 1, qid: int = 7) -> bytes:
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)


def endpoints() -> agent_pb2.Endpoints:
    return agent_pb2.Endpoints(revision=4, services=[agent_pb2.ServiceRoute(
        name="web", virtual_address="10.96.1.1",
        ports=[types_pb2.ServicePort(port=80, target_port=8080, node_port=30080)],
        endpoints=[types_pb2.Endpoint(replica_id=f"web-{i}", node=f"n{i}", address=f"10.0.0.{i}", relay_port=7471,
                                      incarnation=1, ready=True) for i in range(3)])])


def test_a_service_name_answers_its_address_and_other_names_nxdomain():
    r = Routes.of(endpoints())
    reply = answer(query("web"), r.lookup)
    qid, flags, ancount = struct.unpack("!HHxxH", reply[:8])
    assert (qid, flags & 0xF, ancount) == (7, 0, 1)
    assert socket.inet_ntoa(reply[-4:]) == "10.96.1.1"
    assert socket.inet_ntoa(answer(query("WEB.orchestra"), r.lookup)[-4:]) == "10.96.1.1"
    assert struct.unpack("!H", answer(query("db"), r.lookup)[2:4])[0] & 0xF == RCODE_NXDOMAIN
    aaaa = answer(query("web", qtype=28), r.lookup)      # known name, no IPv6: no records, no error
    assert struct.unpack("!HxxH", aaaa[2:8]) == (0x8580, 0)


def test_garbage_gets_a_format_error_or_nothing():
    assert answer(b"\x00", lambda n: None) is None
    bad = answer(b"\x00\x05" + b"\xff" * 20, lambda n: None)
    assert bad is not None and struct.unpack("!H", bad[2:4])[0] & 0xF == 1
    with pytest.raises(ValueError):
        parse_question(query("web")[:14])


def test_routes_listen_on_the_virtual_address_and_the_node_port_and_take_endpoints_in_turn():
    r = Routes.of(endpoints())
    assert set(r.listeners) == {("10.96.1.1", 80), ("0.0.0.0", 30080)}
    firsts = [r.order("web", turn)[0].replica_id for turn in range(6)]
    assert firsts == ["web-0", "web-1", "web-2"] * 2
    assert [t.replica_id for t in r.order("web", 4)] == ["web-1", "web-2", "web-0"]   # the rest, to fall back on
    assert r.target_ports["web-1"] == {8080}
    assert r.order("nothing", 0) == []


def test_not_ready_endpoints_take_no_connections():
    msg = endpoints()
    msg.services[0].endpoints[1].ready = False
    assert [t.replica_id for t in Routes.of(msg).endpoints["web"]] == ["web-0", "web-2"]


def test_the_relay_header():
    assert parse_header(header("web-1", 3, 8080)) == ("web-1", 3, 8080)
    with pytest.raises(RelayRefused):
        parse_header(b"GET / HTTP/1.0\n")
