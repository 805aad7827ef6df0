"""When each node of a `cluster up` reached each milestone, read from Vagrant's output lines
(stamped with the time since the command started) and the plane's node list, and the phases
of the whole bring-up computed from them. Pure: no I/O, no clock."""
from __future__ import annotations

import re

# Vagrant/vagrant-libvirt's progress lines, per machine.
VAGRANT_MILESTONES = (
    ("defined", re.compile(r"==> (?P<node>[A-Za-z0-9._-]+): Creating image \(snapshot of base box volume\)")),
    ("started", re.compile(r"==> (?P<node>[A-Za-z0-9._-]+): Starting domain\.")),
    ("ssh", re.compile(r"==> (?P<node>[A-Za-z0-9._-]+): Machine booted and ready!")),
)
ORDER = ("defined", "started", "ssh", "ready")


class Milestones:
    def __init__(self) -> None:
        self.at: dict[str, dict[str, float]] = {}

    def mark(self, node: str, milestone: str, t: float) -> None:
        self.at.setdefault(node, {}).setdefault(milestone, t)   # the first time counts

    def feed(self, t: float, line: str) -> None:
        for milestone, pattern in VAGRANT_MILESTONES:
            m = pattern.search(line)
            if m:
                self.mark(m.group("node"), milestone, t)

    def last(self, nodes: list[str], milestone: str) -> float | None:
        """When the last of `nodes` reached `milestone` (None if one has not)."""
        times = [self.at.get(n, {}).get(milestone) for n in nodes]
        return None if not times or any(t is None for t in times) else max(times)

    def describe(self, nodes: list[str]) -> list[str]:
        """One line per node: `vm-1: defined 3.1s, started 3.5s, ssh 51.0s, ready 48.2s`."""
        out = []
        for n in nodes:
            got = self.at.get(n, {})
            out.append(f"{n}: " + ", ".join(f"{m} {got[m]:.1f}s" for m in ORDER if m in got))
        return out


def phases(ms: Milestones, nodes: list[str], *, vagrant_start: float, vagrant_end: float,
           end: float) -> dict[str, float]:
    """Seconds spent in each phase after the box: domains defined and started (with Vagrant's
    own start-up and a first import of the box), guests booted until SSH answers and Vagrant
    set its key, and the agents' join beyond that (0 when every node was Ready by then)."""
    started = ms.last(nodes, "started") or vagrant_end
    ssh = ms.last(nodes, "ssh") or vagrant_end
    ready = ms.last(nodes, "ready") or end
    return {"define": started - vagrant_start, "boot_ssh": max(ssh, vagrant_end) - started,
            "join": max(0.0, ready - vagrant_end)}
