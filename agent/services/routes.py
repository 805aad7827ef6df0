"""What the node routes by, from one Endpoints message: pure, so every rule is tested alone.

- names: `NAME` and `NAME.<cluster domain>` -> the service's virtual address;
- listeners: (address, port) -> (service, target port): each service port on its virtual
  address, and a published one also on 0.0.0.0:<nodePort>;
- endpoints of a service, taken in turn (round robin) so that connections spread over them;
  a local one is connected to directly, a remote one through its node's relay.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from orchestra.api import agent_pb2
from orchestra.service_network import CLUSTER_DOMAIN

ALL_ADDRESSES = "0.0.0.0"


@dataclass(frozen=True)
class Target:
    replica_id: str
    node: str
    address: str
    relay_port: int
    incarnation: int


@dataclass(frozen=True)
class Listen:
    service: str
    target_port: int


@dataclass
class Routes:
    revision: int = 0
    names: dict[str, str] = field(default_factory=dict)
    listeners: dict[tuple[str, int], Listen] = field(default_factory=dict)
    endpoints: dict[str, tuple[Target, ...]] = field(default_factory=dict)
    # replica id -> target ports services may connect to (what this node's relay accepts)
    target_ports: dict[str, frozenset[int]] = field(default_factory=dict)

    @staticmethod
    def of(msg: agent_pb2.Endpoints) -> "Routes":
        r = Routes(revision=msg.revision)
        ports: dict[str, set[int]] = {}
        for s in msg.services:
            if not s.virtual_address:
                continue
            r.names[s.name.lower()] = s.virtual_address
            r.names[f"{s.name.lower()}.{CLUSTER_DOMAIN}"] = s.virtual_address
            for p in s.ports:
                r.listeners[(s.virtual_address, p.port)] = Listen(s.name, p.target_port)
                if p.node_port:
                    r.listeners[(ALL_ADDRESSES, p.node_port)] = Listen(s.name, p.target_port)
            targets = tuple(Target(e.replica_id, e.node, e.address, e.relay_port, e.incarnation)
                            for e in s.endpoints if e.ready)
            r.endpoints[s.name] = targets
            for t in targets:
                ports.setdefault(t.replica_id, set()).update(p.target_port for p in s.ports)
        r.target_ports = {rid: frozenset(v) for rid, v in ports.items()}
        return r

    def lookup(self, name: str) -> str | None:
        return self.names.get(name.lower().rstrip("."))

    def order(self, service: str, turn: int) -> list[Target]:
        """The service's endpoints, starting from the one whose turn it is (`turn` counts the
        service's connections; it outlives Routes, so a new revision does not start over)."""
        targets = self.endpoints.get(service, ())
        if not targets:
            return []
        turn %= len(targets)
        return list(targets[turn:] + targets[:turn])
