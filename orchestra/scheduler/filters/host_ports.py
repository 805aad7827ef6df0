"""Host ports: a published port (port, protocol) taken on the node by another replica blocks it.

Two bindings clash when their addresses are equal or either binds every address ("" or 0.0.0.0).
"""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Filter

NAME = "host-ports"
_ANY = ("", "0.0.0.0", "::")


def clash(ip_a: str, ip_b: str) -> bool:
    return ip_a == ip_b or ip_a in _ANY or ip_b in _ANY


def taken(c, port, i: int) -> bool:
    held = c.ports.get((port.host_port, port.protocol))
    return bool(held) and i in held and any(clash(ip, port.host_ip) for ip in held[i])


class HostPorts(Filter):
    name = NAME
    static = False

    def applies(self, d):
        return bool(d.ports)

    def mask(self, c, w):
        m = c.all_nodes.copy()
        for port in w.demand.ports:
            for i in c.ports.get((port.host_port, port.protocol), {}):
                if taken(c, port, i):
                    m[i] = False
        return m

    def passes(self, c, w, i):
        return not any(taken(c, port, i) for port in w.demand.ports)

    def explain(self, c, w, idx):
        groups: dict[str, list[int]] = {}
        for i in idx.tolist():
            port = next(p for p in w.demand.ports if taken(c, p, i))
            groups.setdefault(f"host port {port.host_port}/{port.protocol} in use", []).append(i)
        return [(reason, np.array(nodes), "") for reason, nodes in groups.items()]
