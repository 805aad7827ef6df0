"""The addresses of the service data path, the same on every node (plane and agents share them).

Services get stable virtual addresses from VIRTUAL_RANGE; every node makes the whole range
local (`ip route add local RANGE dev lo` in the node's network namespace), so a packet to any
address in it is delivered on the node itself and never leaves it, also for an address no
service has (yet). The agent's DNS responder answers at DNS_ADDRESS, which every container
gets as its only nameserver, with CLUSTER_DOMAIN as its search domain.
"""
from __future__ import annotations

import ipaddress

CLUSTER_DOMAIN = "orchestra"
VIRTUAL_RANGE = ipaddress.ip_network("10.96.0.0/16")
DNS_ADDRESS = "10.96.0.10"
# Services get addresses from here on (the first /24 is kept for the node's own use: DNS).
FIRST_SERVICE_ADDRESS = ipaddress.ip_address("10.96.1.1")
DEFAULT_RELAY_PORT = 7471


def service_addresses():
    """Every address a service may get, lowest first."""
    last = VIRTUAL_RANGE.broadcast_address
    a = FIRST_SERVICE_ADDRESS
    while a < last:
        yield str(a)
        a += 1
