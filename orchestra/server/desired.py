"""Desired sets: per node, the whole set of replicas bound to it, as ContainerSpecs.

The revision of a node's set grows (and is persisted) exactly when the set changes; a
digest of the last published set, kept on the node record, tells whether it did.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict

from orchestra.api import agent_pb2
from orchestra.server.messages import container_spec
from orchestra.server.workloads import WorkloadCatalog
from orchestra.store.base import Store


def build_sets(store: Store, catalog: WorkloadCatalog) -> dict[str, list[agent_pb2.ContainerSpec]]:
    """node -> its container specs, sorted by replica id."""
    workloads = {name: w for name, (_, w) in catalog.all().items()}
    sets: dict[str, list] = defaultdict(list)
    for r in store.list_replicas():
        w = workloads.get(r.workload)
        if r.node and w is not None:
            sets[r.node].append(container_spec(w, r))
    for specs in sets.values():
        specs.sort(key=lambda s: s.replica_id)
    return sets


def digest(specs: list[agent_pb2.ContainerSpec]) -> str:
    h = hashlib.sha256()
    for s in specs:
        data = s.SerializeToString(deterministic=True)
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def sync_revisions(store: Store, catalog: WorkloadCatalog, min_revisions: dict[str, int] | None = None
                   ) -> dict[str, agent_pb2.DesiredSet]:
    """Bump and persist the revision of every node whose set changed (one transaction); returns every
    node's current DesiredSet. `min_revisions` (node -> revision) forces a revision above what an agent
    says it has already applied (e.g. after the plane's store was replaced)."""
    min_revisions = min_revisions or {}
    out = {}
    with store.transaction():
        sets = build_sets(store, catalog)
        for node in store.list_nodes():
            specs = sets.get(node.name, [])
            d = digest(specs)
            floor = min_revisions.get(node.name, 0)
            if d != node.desired_hash or node.desired_revision <= floor or node.desired_revision == 0:
                node.desired_revision = max(node.desired_revision, floor) + 1
                node.desired_hash = d
                store.put_node(node)
            out[node.name] = agent_pb2.DesiredSet(revision=node.desired_revision, replicas=specs)
    return out
