"""Engines whose network namespaces are linked, for tests of traffic between nodes.

A switch namespace (its own holder process) carries a bridge; each engine attached to it gets a
veth pair: one end on the bridge, the other (`eth1`) in the engine's namespace with an address
of LINK_NETWORK. That range is used only inside these namespaces: the machine's own namespace
has no route to it, so nothing sent on the link can leave the machine.

The control plane stays on 127.0.0.1 in the machine's namespace. Agents run inside their node's
namespace (as they would in a VM) and reach the plane at PLANE_ADDRESS on the bridge, where a
forwarder made by this module accepts (its listening socket made inside the switch namespace
with setns(2)) and connects to the plane's 127.0.0.1 port: the QEMU guestfwd of these tests.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agent.services.splice import splice  # noqa: E402

LINK_NETWORK = ipaddress.ip_network("10.213.0.0/24")
PLANE_ADDRESS = "10.213.0.254"
CLONE_NEWNET = 0x40000000


def _in_netns(pid: int, fn):
    """Run fn() on a fresh thread that joined process `pid`'s network namespace; its result."""
    out: dict = {}

    def run():
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                out["error"] = OSError(ctypes.get_errno(), "setns")
                return
        finally:
            os.close(fd)
        try:
            out["value"] = fn()
        except Exception as e:   # handed to the caller
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def _run(argv: list[str]) -> None:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")


class LinkedNetwork:
    def __init__(self):
        self.holder = subprocess.Popen(["unshare", "--net", "--fork", "--", "sh", "-c",
                                        "ip link set lo up && exec sleep infinity"],
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            pid = self._child()
            if pid and Path(f"/proc/{pid}/comm").read_text().strip() == "sleep":
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the switch namespace did not come up")
            time.sleep(0.05)
        self.pid = pid
        self.suffix = uuid.uuid4().hex[:4]
        self._ns(["ip", "link", "add", "br0", "type", "bridge"])
        self._ns(["ip", "addr", "add", f"{PLANE_ADDRESS}/{LINK_NETWORK.prefixlen}", "dev", "br0"])
        self._ns(["ip", "link", "set", "br0", "up"])
        self.addresses: dict[int, str] = {}       # engine netns pid -> its address on the link
        self._forwarders: list[socket.socket] = []

    def _child(self) -> int:
        try:
            children = Path(f"/proc/{self.holder.pid}/task/{self.holder.pid}/children").read_text().split()
        except OSError:
            return 0
        return int(children[0]) if children else 0

    def _ns(self, argv: list[str]) -> None:
        _run(["nsenter", "-t", str(self.pid), "-n", *argv])

    def attach(self, netns_pid: int) -> str:
        """Link the namespace of `netns_pid` to the bridge; its address on the link."""
        n = len(self.addresses) + 1
        address = str(LINK_NETWORK.network_address + n)
        port = f"sw{n}"
        self._ns(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth1", "netns", str(netns_pid)])
        self._ns(["ip", "link", "set", port, "master", "br0", "up"])
        inside = ["nsenter", "-t", str(netns_pid), "-n"]
        _run(inside + ["ip", "addr", "add", f"{address}/{LINK_NETWORK.prefixlen}", "dev", "eth1"])
        _run(inside + ["ip", "link", "set", "eth1", "up"])
        self.addresses[netns_pid] = address
        return address

    def cut(self, netns_pid: int) -> None:
        """Take the namespace off the link (its eth1 down): the node is gone for the others."""
        _run(["nsenter", "-t", str(netns_pid), "-n", "ip", "link", "set", "eth1", "down"])

    def forward(self, port: int) -> str:
        """Make the plane's 127.0.0.1:`port` reachable at PLANE_ADDRESS:`port` on the link."""
        def make():
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((PLANE_ADDRESS, port))
            s.listen(64)
            return s

        listener = _in_netns(self.pid, make)
        self._forwarders.append(listener)

        def accept():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                try:
                    up = socket.create_connection(("127.0.0.1", port), timeout=5)
                except OSError:
                    conn.close()
                    continue
                threading.Thread(target=splice, args=(conn, up), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return f"{PLANE_ADDRESS}:{port}"

    def stop(self) -> None:
        for s in self._forwarders:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        for pid in (self.pid, self.holder.pid):     # the namespace goes with its last process
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.holder.wait(10)
