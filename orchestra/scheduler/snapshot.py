"""What the scheduler sees: an immutable picture of the cluster, built by the plane from its store.

The scheduler is a pure function of a Snapshot and the pending replicas: no I/O, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from orchestra.spec.model import Port, Resources, Taint, Workload


@dataclass(frozen=True)
class BoundReplica:
    """A replica already placed on a node (it holds resources there)."""
    replica_id: str
    workload: str
    node: str
    requests: Resources
    priority: int = 0
    tenant: str = ""
    ports: tuple[Port, ...] = ()


@dataclass(frozen=True)
class NodeInfo:
    name: str
    capacity: Resources
    labels: Mapping[str, str] = field(default_factory=dict)
    ready: bool = True
    schedulable: bool = True              # False when cordoned
    taints: tuple[Taint, ...] = ()
    recent_failures: Mapping[str, int] = field(default_factory=dict)  # workload -> recent replica failures here
    images: frozenset[str] | None = None  # canonical references its engine holds; None: never reported (not checked)


@dataclass(frozen=True)
class PendingReplica:
    replica_id: str
    workload: Workload                    # the replica's spec comes from its workload
    group: str = ""                       # replicas of one workload with another spec (an older revision
                                          # during a rollout) are placed as a group of their own
    pinned: str = ""                      # a daemon's replica: the one node it may run on
    volume_node: str = ""                 # its volume data is on this node: it may go nowhere else
    volume_why: str = ""                  # e.g. "volume data of web-0 is on vm-2"


@dataclass(frozen=True)
class Snapshot:
    nodes: tuple[NodeInfo, ...]
    bound: tuple[BoundReplica, ...] = ()
    default_strategy: str = "spread"      # used when a workload's placement.strategy is ""
