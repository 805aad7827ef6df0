"""What each node and replica uses, as its agent last reported it: kept in memory only.

Usage is a sample, not state: it is re-sent every usage interval, and nothing decides by it.
Written through the store it cost the plane more than anything else an idle cluster does (at
1,000 agents: a node write every 5 s per node, and a replica write per running replica), so it
is held here instead, on the plane that serves the user API (the leader). A plane that starts
(or takes over) shows no usage until each agent's next report, a few seconds later.

A replica's sample counts only while the replica is bound to the node that reported it, at the
incarnation it had then: a replica lost and bound again shows nothing until its new node reports.
Samples are kept as the messages they came in (types_pb2.NodeUsage, ContainerUsage), which
nothing changes: converting each to a dict and back cost more than keeping it.
"""
from __future__ import annotations

import threading
from typing import Iterable

from orchestra.api import types_pb2
from orchestra.store.records import ReplicaRecord

NO_NODE_USAGE = types_pb2.NodeUsage()
NO_CONTAINER_USAGE = types_pb2.ContainerUsage()


class UsageBook:
    def __init__(self):
        self._lock = threading.Lock()
        self._nodes: dict[str, types_pb2.NodeUsage] = {}
        # node -> replica id -> (incarnation, sample): a node's report replaces all of its replicas'
        self._replicas: dict[str, dict[str, tuple[int, types_pb2.ContainerUsage]]] = {}

    def record(self, node: str, sample: types_pb2.NodeUsage | None,
               replicas: Iterable[tuple[ReplicaRecord, types_pb2.ContainerUsage]]) -> None:
        """`sample`: the node's own (None: the report had none, the last one stays). `replicas`: the
        bound replicas the report named, each with its sample."""
        kept = {r.id: (r.incarnation, u) for r, u in replicas}
        with self._lock:
            if sample is not None:
                self._nodes[node] = sample
            self._replicas[node] = kept

    def of_node(self, node: str) -> types_pb2.NodeUsage:
        """The node's last sample (an empty message when there is none: sampled_at_ms 0)."""
        with self._lock:
            return self._nodes.get(node, NO_NODE_USAGE)

    def of_replicas(self, rs: Iterable[ReplicaRecord]) -> list[types_pb2.ContainerUsage]:
        """Each one's last sample (empty when there is none), under one lock for a whole listing."""
        out = []
        with self._lock:
            by_node = self._replicas
            for r in rs:
                got = by_node.get(r.node, {}).get(r.id) if r.node else None
                out.append(got[1] if got is not None and got[0] == r.incarnation else NO_CONTAINER_USAGE)
        return out

    def forget(self, node: str) -> None:
        """The node is gone from the cluster (deleted)."""
        with self._lock:
            self._nodes.pop(node, None)
            self._replicas.pop(node, None)
