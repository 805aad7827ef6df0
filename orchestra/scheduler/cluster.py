"""The scheduler's working copy of a Snapshot: per-node columns (numpy) that filters and scorers
read as whole vectors, plus the bookkeeping that placing and evicting replicas updates.

Nodes are held in name order, so index order is the tie-break order.

A caller may keep one ClusterState from one scheduling pass to the next (orchestra.server's
scheduler controller does: indexing every bound replica again was most of a pass at 10,000
replicas): `place`/`unplace` apply what changed since, and `trial()` puts back whatever a
pipeline run added or removed.
"""
from __future__ import annotations

from collections import Counter
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

from orchestra.scheduler.snapshot import BoundReplica, Snapshot

NO_TENANT = -1      # node_tenant value: nothing runs on the node
MIXED_TENANTS = -2  # node_tenant value: several tenants already share the node (bound before isolation)
EMPTY_PRIORITY = 1 << 62


class ClusterState:
    def __init__(self, snapshot: Snapshot):
        nodes = sorted(snapshot.nodes, key=lambda n: n.name)
        self.nodes = nodes
        self.names: list[str] = [n.name for n in nodes]
        self.index: dict[str, int] = {name: i for i, name in enumerate(self.names)}
        self.size = n = len(nodes)
        self.default_strategy = snapshot.default_strategy or "spread"
        self.cap_cpu = np.array([x.capacity.cpu_millis for x in nodes], dtype=np.int64)
        self.cap_mem = np.array([x.capacity.memory_bytes for x in nodes], dtype=np.int64)
        # Reciprocals once, so scorers are plain arithmetic that works on vectors and scalars alike.
        self.inv_cpu = 1.0 / np.maximum(self.cap_cpu, 1)
        self.inv_mem = 1.0 / np.maximum(self.cap_mem, 1)
        self.used_cpu = np.zeros(n, dtype=np.int64)
        self.used_mem = np.zeros(n, dtype=np.int64)
        self.ready = np.array([x.ready for x in nodes], dtype=bool)
        self.schedulable = np.array([x.schedulable for x in nodes], dtype=bool)
        self.tainted: list[int] = [i for i, x in enumerate(nodes) if x.taints]
        self.all_nodes = np.ones(n, dtype=bool)
        self.no_nodes = np.zeros(n, dtype=bool)

        self._label_columns: dict[str, np.ndarray] = {}
        self._label_codes: dict[str, dict[str, int]] = {}
        for i, x in enumerate(nodes):
            for key, value in x.labels.items():
                codes = self._label_codes.setdefault(key, {})
                col = self._label_columns.get(key)
                if col is None:
                    col = self._label_columns[key] = np.full(n, -1, dtype=np.int32)
                col[i] = codes.setdefault(value, len(codes))
        self._missing_column = np.full(n, -1, dtype=np.int32)

        self.node_images: list[frozenset[str] | None] = [x.images for x in nodes]
        self._images_reported = any(imgs is not None for imgs in self.node_images)

        self.tenant_codes: dict[str, int] = {}
        self.tenant_names: list[str] = []
        self.node_tenant = np.full(n, NO_TENANT, dtype=np.int32)
        self.node_tenants: list[Counter] = [Counter() for _ in range(n)]
        self.replicas: list[list[BoundReplica]] = [[] for _ in range(n)]
        # Lowest priority bound per node (EMPTY_PRIORITY when none): preemption looks only where it could evict.
        self.min_priority = np.full(n, EMPTY_PRIORITY, dtype=np.int64)
        self.workload_nodes: dict[str, dict[int, int]] = {}
        self.ports: dict[tuple[int, str], dict[int, list[str]]] = {}
        self.failures: dict[str, dict[int, int]] = {}
        for i, x in enumerate(nodes):
            for workload, count in x.recent_failures.items():
                if count > 0:
                    self.failures.setdefault(workload, {})[i] = count
        self._journal: list[tuple[bool, int, BoundReplica]] | None = None
        self._load(snapshot.bound)

    def _load(self, bound) -> None:
        """Bulk form of add() for the snapshot's bound replicas: plain Python sums, then one write per column
        (a pass re-indexes every bound replica, so this is the plane's per-pass fixed cost)."""
        index, replicas, node_tenants = self.index, self.replicas, self.node_tenants
        workload_nodes, ports, tenant_codes = self.workload_nodes, self.ports, self.tenant_codes
        cpu = [0] * self.size
        mem = [0] * self.size
        low = [EMPTY_PRIORITY] * self.size
        for b in bound:
            i = index.get(b.node)
            if i is None:           # a replica on a node that left the snapshot holds nothing schedulable
                continue
            r = b.requests
            cpu[i] += r.cpu_millis
            mem[i] += r.memory_bytes
            if b.priority < low[i]:
                low[i] = b.priority
            replicas[i].append(b)
            code = tenant_codes.get(b.tenant)
            if code is None:
                code = self.tenant_code(b.tenant)
            node_tenants[i][code] += 1
            per_node = workload_nodes.get(b.workload)
            if per_node is None:
                per_node = workload_nodes[b.workload] = {}
            per_node[i] = per_node.get(i, 0) + 1
            if b.ports:
                for p in b.ports:
                    if p.host_port:
                        ports.setdefault((p.host_port, p.protocol), {}).setdefault(i, []).append(p.host_ip)
        self.used_cpu += np.array(cpu, dtype=np.int64)
        self.used_mem += np.array(mem, dtype=np.int64)
        self.min_priority[:] = low
        for i, counts in enumerate(node_tenants):
            if counts:
                self._refresh_tenant(i)

    # labels -----------------------------------------------------------------------------------
    def label_column(self, key: str) -> np.ndarray:
        """Value codes of label `key` per node; -1 where the node lacks the label."""
        return self._label_columns.get(key, self._missing_column)

    def label_code(self, key: str, value: str) -> int:
        """Code of `value` in label_column(key); -2 (matches no node) when no node carries it."""
        return self._label_codes.get(key, {}).get(value, -2)

    def label_values(self, key: str) -> list[str]:
        codes = self._label_codes.get(key, {})
        values = [""] * len(codes)
        for v, code in codes.items():
            values[code] = v
        return values

    # images -----------------------------------------------------------------------------------
    def image_mask(self, image: str) -> np.ndarray:
        """Nodes that hold `image` (a canonical reference), or never reported their images."""
        if not self._images_reported:     # e.g. a cluster of fake nodes: one shared vector, no loop
            return self.all_nodes
        return np.fromiter((imgs is None or image in imgs for imgs in self.node_images), dtype=bool, count=self.size)

    # tenants ----------------------------------------------------------------------------------
    def tenant_code(self, tenant: str) -> int:
        code = self.tenant_codes.get(tenant)
        if code is None:
            code = self.tenant_codes[tenant] = len(self.tenant_names)
            self.tenant_names.append(tenant)
        return code

    def _refresh_tenant(self, i: int) -> None:
        owners = [t for t, c in self.node_tenants[i].items() if c > 0]
        self.node_tenant[i] = owners[0] if len(owners) == 1 else (NO_TENANT if not owners else MIXED_TENANTS)

    # kept from pass to pass ---------------------------------------------------------------------
    def place(self, b: BoundReplica) -> None:
        """`b` is bound now (a replica on a node outside the snapshot holds nothing, as in _load)."""
        i = self.index.get(b.node)
        if i is not None:
            self.add(i, b)

    def unplace(self, b: BoundReplica) -> None:
        """`b`, placed before, is bound no more (or changed: place its new form after)."""
        i = self.index.get(b.node)
        if i is not None:
            self.remove(i, b)

    @contextmanager
    def trial(self) -> Iterator[None]:
        """Whatever is added or removed inside is undone at the end (a pipeline run's placements and
        evictions: the store says later which of them were written)."""
        self._journal = journal = []
        try:
            yield
        finally:
            self._journal = None
            for added, i, b in reversed(journal):
                if added:
                    self.remove(i, b)
                else:
                    self.add(i, b)

    # placing and evicting ---------------------------------------------------------------------
    def add(self, i: int, b: BoundReplica) -> None:
        if self._journal is not None:
            self._journal.append((True, i, b))
        self.used_cpu[i] += b.requests.cpu_millis
        self.used_mem[i] += b.requests.memory_bytes
        self.replicas[i].append(b)
        if b.priority < self.min_priority[i]:
            self.min_priority[i] = b.priority
        code = self.tenant_code(b.tenant)
        counts = self.node_tenants[i]
        counts[code] += 1
        if counts[code] == 1:
            self._refresh_tenant(i)
        per_node = self.workload_nodes.setdefault(b.workload, {})
        per_node[i] = per_node.get(i, 0) + 1
        for p in b.ports:
            if p.host_port:
                self.ports.setdefault((p.host_port, p.protocol), {}).setdefault(i, []).append(p.host_ip)

    def remove(self, i: int, b: BoundReplica) -> None:
        if self._journal is not None:
            self._journal.append((False, i, b))
        self.used_cpu[i] -= b.requests.cpu_millis
        self.used_mem[i] -= b.requests.memory_bytes
        self.replicas[i].remove(b)
        self.min_priority[i] = min((x.priority for x in self.replicas[i]), default=EMPTY_PRIORITY)
        code = self.tenant_codes[b.tenant]
        counts = self.node_tenants[i]
        counts[code] -= 1
        if counts[code] == 0:
            del counts[code]
            self._refresh_tenant(i)
        # Emptied entries go: a state kept from pass to pass would otherwise keep every workload ever seen.
        per_node = self.workload_nodes[b.workload]
        per_node[i] -= 1
        if per_node[i] == 0:
            del per_node[i]
            if not per_node:
                del self.workload_nodes[b.workload]
        for p in b.ports:
            if p.host_port:
                held = self.ports[(p.host_port, p.protocol)]
                held[i].remove(p.host_ip)
                if not held[i]:
                    del held[i]
                    if not held:
                        del self.ports[(p.host_port, p.protocol)]

    def workload_counts(self, workload: str) -> np.ndarray:
        """Replicas of `workload` per node, as a vector."""
        counts = np.zeros(self.size, dtype=np.int64)
        per_node = self.workload_nodes.get(workload)
        if per_node:
            counts[list(per_node)] = list(per_node.values())
        return counts

    def node_names(self, idx: Sequence[int] | np.ndarray) -> list[str]:
        names = self.names
        return [names[i] for i in idx]
