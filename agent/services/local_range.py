"""Makes the service range local on this node: `ip route replace local <range> dev lo` in the
agent's network namespace. Every address of the range is then delivered on the node itself
(the kernel's AnyIP), so the DNS responder and the service listeners can bind any of them
without adding addresses, and a packet to an address of the range that no service has (a
cached answer, a deleted service) ends on the node instead of leaving it by a default route.
Containers on Docker's bridge reach it through their gateway; host-networked ones directly.
"""
from __future__ import annotations

import shutil
import subprocess

from orchestra.service_network import VIRTUAL_RANGE


class RangeUnavailable(Exception):
    """str(): why the range could not be made local (containers then get no service DNS)."""


def make_local(network=VIRTUAL_RANGE) -> None:
    ip = shutil.which("ip") or next((p for p in ("/usr/sbin/ip", "/sbin/ip") if shutil.os.path.exists(p)), None)
    if ip is None:
        raise RangeUnavailable("the ip command (iproute2) is not installed")
    try:
        r = subprocess.run([ip, "route", "replace", "local", str(network), "dev", "lo", "table", "local"],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RangeUnavailable(f"ip route: {e}") from e
    if r.returncode != 0:
        raise RangeUnavailable(f"ip route replace local {network} dev lo: {r.stderr.strip() or r.returncode}")
