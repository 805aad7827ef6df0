"""Desired sets: per node, the whole set of replicas bound to it, as ContainerSpecs.

The revision of a node's set grows (and is persisted) exactly when the set changes; a
digest of the last published set, kept on the node record, tells whether it did. The
digest is taken over what determines each ContainerSpec (replica id, index, generation,
incarnation, and the workload's template generation), so the specs themselves are built
only for the nodes a set is actually sent to.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from orchestra.api import agent_pb2
from orchestra.server.messages import container_spec
from orchestra.server.workloads import WorkloadCatalog
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import ReplicaRecord


@dataclass
class NodeSet:
    revision: int
    replicas: list[ReplicaRecord] = field(default_factory=list)   # sorted by replica id


def digest(replicas: list[ReplicaRecord], template_generations: dict[str, int]) -> str:
    h = hashlib.sha256()
    for r in replicas:
        h.update(f"{r.id}\0{r.workload}\0{r.index}\0{r.generation}\0{r.incarnation}\0"
                 f"{template_generations.get(r.workload, 0)}\n".encode())
    return h.hexdigest()


def sync_revisions(store: Store, min_revisions: dict[str, int] | None = None, node: str = "") -> dict[str, NodeSet]:
    """Bump and persist the revision of every node (or only `node`) whose set changed, in one transaction;
    returns those nodes' current sets. `min_revisions` (node -> revision) forces a revision above what an
    agent says it has already applied (e.g. after the plane's store was replaced)."""
    min_revisions = min_revisions or {}
    out = {}
    with store.transaction():
        template_generations = {w.name: w.template_generation for w in store.list_workloads()}
        bound: dict[str, list[ReplicaRecord]] = defaultdict(list)
        for r in store.list_replicas(node=node, bound=True):
            if r.workload in template_generations:
                bound[r.node].append(r)
        if node:
            one = store.get_node(node)
            nodes = [one] if one is not None else []
        else:
            nodes = store.list_nodes()
        for n in nodes:
            replicas = sorted(bound.get(n.name, []), key=lambda r: r.id)
            d = digest(replicas, template_generations)
            floor = min_revisions.get(n.name, 0)
            if d != n.desired_hash or n.desired_revision <= floor or n.desired_revision == 0:
                n.desired_revision = max(n.desired_revision, floor) + 1
                n.desired_hash = d
                store.put_node(n)
            out[n.name] = NodeSet(n.desired_revision, replicas)
    return out


def desired_message(ns: NodeSet, workloads: dict[str, Workload]) -> agent_pb2.DesiredSet:
    return agent_pb2.DesiredSet(revision=ns.revision,
                                replicas=[container_spec(workloads[r.workload], r) for r in ns.replicas
                                          if r.workload in workloads])


def current_workloads(catalog: WorkloadCatalog) -> dict[str, Workload]:
    return {name: w for name, (_, w) in catalog.all().items()}
