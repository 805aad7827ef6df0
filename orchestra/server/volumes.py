"""Replicas' own volumes on the plane: which Docker volume holds the data of which replica, on
which node, and when it may be removed.

Identity: a volume belongs to (workload, index, volume name), not to a replica record. A rollout
of a workload with volumes replaces replicas index for index (no surge: orchestra.spec.manifest),
scale-down retires the highest indices and scale-up takes the lowest free ones, so the replica
that follows web-0 (after a rollout, a loss, a scale-down and up, a delete and re-apply of the
workload) is web-0 again and finds the data of web-0.

- The first time a replica is bound, its volumes are claimed on that node (in the bind's
  transaction); from then on the scheduler keeps it there (filter volume-node), also when the
  node is lost: it stays Pending, saying so, rather than start empty elsewhere.
- `orchestra move REPLICA` releases its volumes (Released: the data stays on the old node) and
  the replica is placed anywhere, with new empty volumes (the next claim: orchestra.web-0.data.2).
- Deleting (delete ... --volumes, delete volume NAME): the node's agent is asked to remove the
  Docker volume once no replica of that index is bound there; the record goes when a report of
  that node no longer lists it ("done" means seen on the node).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable

from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.spec import volumes as spec_volumes
from orchestra.spec.model import Template
from orchestra.store.base import Store
from orchestra.store.records import (VOLUME_BOUND, VOLUME_DELETING, VOLUME_RELEASED, ReplicaRecord,
                                     VolumeRecord)


def docker_name(workload: str, index: int, volume: str, claim: int) -> str:
    """Docker volume names allow dots, replica ids and volume names do not: unambiguous."""
    base = f"orchestra.{workload}-{index}.{volume}"
    return base if claim <= 1 else f"{base}.{claim}"


class Claims:
    """The volume records of one pass over the store, by replica slot (workload, index)."""

    def __init__(self, store: Store):
        self.by_slot: dict[tuple[str, int], list[VolumeRecord]] = defaultdict(list)
        for v in store.list(VolumeRecord):
            self.by_slot[v.workload, v.index].append(v)

    def bound(self, workload: str, index: int, template: Template) -> list[VolumeRecord]:
        """The Bound records of the volumes `template` declares for this slot."""
        wanted = {v.name for v in spec_volumes.persistent_volumes(template)}
        return [v for v in self.by_slot.get((workload, index), []) if v.state == VOLUME_BOUND and v.volume in wanted]

    def pin(self, workload: str, index: int, template: Template) -> tuple[str, str]:
        """(node, why) when the slot's data is on a node, else ("", "")."""
        placed = sorted((v for v in self.bound(workload, index, template) if v.node), key=lambda v: v.name)
        if not placed:
            return "", ""
        v = placed[0]
        return v.node, f"volume data of {workload}-{index} is on {v.node}"


def claim(store: Store, events: EventLog, r: ReplicaRecord, node: str, template: Template,
          now_ms: int) -> bool:
    """Bind the replica's volumes to `node` (inside the bind's transaction). False when its data is
    on another node (the scheduler's snapshot was older than that): then it must not bind there."""
    wanted = spec_volumes.persistent_volumes(template)
    if not wanted:
        return True
    mine = [v for v in store.list(VolumeRecord, workload=r.workload) if v.index == r.index]
    bound = {v.volume: v for v in mine if v.state == VOLUME_BOUND}
    if any(v.node and v.node != node for v in bound.values() if v.volume in {w.name for w in wanted}):
        return False
    taken = {v.name for v in store.list(VolumeRecord, workload=r.workload)}
    for vol in wanted:
        rec = bound.get(vol.name)
        if rec is not None:
            if not rec.node:
                rec.node, rec.updated_at_ms = node, now_ms
                store.put(rec)
            continue
        number = 1 + max((v.claim for v in mine if v.volume == vol.name), default=0)
        while docker_name(r.workload, r.index, vol.name, number) in taken:
            number += 1
        rec = VolumeRecord(name=docker_name(r.workload, r.index, vol.name, number), workload=r.workload,
                           index=r.index, volume=vol.name, node=node, claim=number, created_at_ms=now_ms,
                           updated_at_ms=now_ms)
        store.put(rec)
        events.emit("Volume", rec.name, NORMAL, "Claimed", f"volume {vol.name} of {r.id} is {rec.name} on {node}")
    return True


def release(store: Store, events: EventLog, r: ReplicaRecord, now_ms: int) -> list[VolumeRecord]:
    """Let the replica start elsewhere: its volumes stay behind, Released, with their data."""
    out = []
    for v in store.list(VolumeRecord, workload=r.workload):
        if v.index != r.index or v.state != VOLUME_BOUND:
            continue
        v.state = VOLUME_RELEASED
        v.message = (f"released by a move of {r.id}; its data stays on {v.node}" if v.node
                     else f"released by a move of {r.id}")
        v.updated_at_ms = now_ms
        store.put(v)
        events.emit("Volume", v.name, WARNING, "Released",
                    f"{r.id} moves without volume {v.volume}: {v.name} and its data stay on {v.node or 'no node'} "
                    f"(orchestra delete volume {v.name} removes them)")
        out.append(v)
    return out


def mark_deleting(store: Store, events: EventLog, recs: Iterable[VolumeRecord], why: str, now_ms: int) -> list[str]:
    """Ask for their removal; a volume that never reached a node goes at once. Returns the names."""
    out = []
    for v in recs:
        out.append(v.name)
        if v.state == VOLUME_DELETING:
            continue
        if not v.node:
            store.delete(VolumeRecord, v.name)
            events.emit("Volume", v.name, NORMAL, "Deleted", f"volume {v.name} deleted ({why}; it was on no node)")
            continue
        v.state, v.message, v.updated_at_ms, v.stop_revision = VOLUME_DELETING, why, now_ms, 0
        store.put(v)
        events.emit("Volume", v.name, NORMAL, "Deleting", f"volume {v.name} on {v.node}: {why}")
    return out


def removals(store: Store, replicas: Iterable[ReplicaRecord],
             nodes: Iterable[str] | None = None) -> dict[str, list[VolumeRecord]]:
    """node -> its Deleting volumes that no container can still use: no replica of their slot is bound
    there (`replicas`: every bound replica of those nodes, Terminating ones included). `nodes`: only
    these nodes' volumes (None: every node's)."""
    busy = {(r.node, r.workload, r.index) for r in replicas if r.node}
    out: dict[str, list[VolumeRecord]] = defaultdict(list)
    found = store.list(VolumeRecord) if nodes is None else [v for n in nodes for v in store.list(VolumeRecord, node=n)]
    for v in found:
        if v.state == VOLUME_DELETING and v.node and (v.node, v.workload, v.index) not in busy:
            out[v.node].append(v)
    return out


def removing_from(store: Store, recs: Iterable[VolumeRecord], revision: int) -> None:
    """The publisher asked the node, from desired set `revision` on, to remove these volumes."""
    for v in recs:
        if not v.stop_revision:
            v.stop_revision = revision
            store.put(v)


def confirm_removed(store: Store, events: EventLog, node: str, report_revision: int, present: set[str]) -> list[str]:
    """Deleting volumes of `node` that a report made at or after the request no longer lists: gone."""
    gone = []
    for v in store.list(VolumeRecord, node=node):
        if v.state == VOLUME_DELETING and v.stop_revision and report_revision >= v.stop_revision \
                and v.name not in present:
            store.delete(VolumeRecord, v.name)
            events.emit("Volume", v.name, NORMAL, "Deleted", f"volume {v.name} and its data removed from {node}")
            gone.append(v.name)
    return gone
