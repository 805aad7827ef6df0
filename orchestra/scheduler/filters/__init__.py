"""Filters in the order they run; a rejected node is charged to the first filter that drops it.

Cheap, static checks come first; resource fit comes last so its closest miss is a node that
passes everything else (the most useful hint).
"""
from orchestra.scheduler.filters.dedicated_tenant import DedicatedTenant
from orchestra.scheduler.filters.fit import ResourcesFit
from orchestra.scheduler.filters.host_ports import HostPorts
from orchestra.scheduler.filters.image import ImagePresent
from orchestra.scheduler.filters.max_per_node import MaxPerNode
from orchestra.scheduler.filters.node_affinity import NodeAffinity
from orchestra.scheduler.filters.node_selector import NodeSelector
from orchestra.scheduler.filters.pinned_node import PinnedNode
from orchestra.scheduler.filters.ready import NodeReady
from orchestra.scheduler.filters.taints import TaintToleration
from orchestra.scheduler.filters.tenant import TenantIsolation
from orchestra.scheduler.filters.volume_node import VolumeNode

FILTERS = (
    VolumeNode(),       # first: a replica held by its volume data is explained by that before all else
    PinnedNode(),
    NodeReady(),
    NodeSelector(),
    NodeAffinity(),
    TaintToleration(),
    DedicatedTenant(),
    ImagePresent(),
    TenantIsolation(),
    MaxPerNode(),
    HostPorts(),
    ResourcesFit(),
)
STATIC_FILTERS = tuple(f for f in FILTERS if f.static)
DYNAMIC_FILTERS = tuple(f for f in FILTERS if not f.static)

__all__ = ["FILTERS", "STATIC_FILTERS", "DYNAMIC_FILTERS"]
