"""What every replica of one workload asks of a node: the scheduler's equivalence class.

Replicas of one workload share every constraint, so filters and scorers run once per Demand.
"""
from __future__ import annotations

from dataclasses import dataclass

from orchestra.spec.model import Placement, Port, Workload
from orchestra.spec.names import canonical_image


@dataclass(frozen=True)
class Demand:
    workload: str
    cpu: int
    memory: int
    tenant: str
    priority: int
    ports: tuple[Port, ...]               # only published ones (hostPort > 0)
    placement: Placement
    strategy: str                         # resolved: binpack | spread
    selector: tuple[tuple[str, str], ...]  # nodeSelector, sorted: hashable for caches
    daemon: bool = False                  # a daemon's replicas run on cordoned nodes too (as DaemonSets)
    pinned: str = ""                      # a daemon's replica: the one node it may run on
    image: str = ""                       # the template's image, canonical (orchestra.spec.names.canonical_image)
    volume_node: str = ""                 # the node its volume data is on (filter volume-node)
    volume_why: str = ""

    @staticmethod
    def of(workload: Workload, default_strategy: str, pinned: str = "", volume_node: str = "",
           volume_why: str = "") -> "Demand":
        spec = workload.spec
        p = spec.placement
        return Demand(
            workload=workload.name,
            cpu=spec.template.resources.cpu_millis,
            memory=spec.template.resources.memory_bytes,
            tenant=spec.tenant,
            priority=spec.priority,
            ports=tuple(q for q in spec.template.ports if q.host_port),
            placement=p,
            strategy=p.strategy or default_strategy,
            selector=tuple(sorted(p.node_selector.items())),
            daemon=spec.mode == "daemon",
            pinned=pinned,
            image=canonical_image(spec.template.image),
            volume_node=volume_node,
            volume_why=volume_why,
        )
