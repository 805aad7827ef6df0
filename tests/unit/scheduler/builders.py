"""Small constructors for scheduler tests: nodes, workloads, pending and bound replicas."""
from __future__ import annotations

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.demand import Demand
from orchestra.scheduler.plugin import WorkloadState
from orchestra.scheduler.snapshot import BoundReplica, NodeInfo, PendingReplica, Snapshot
from orchestra.spec.model import Placement, Port, Resources, Template, Workload, WorkloadSpec

MI = 1 << 20
GI = 1 << 30


def node(name: str, cpu: int = 4000, memory: int = 8 * GI, labels=None, **kw) -> NodeInfo:
    return NodeInfo(name, Resources(cpu, memory), labels=dict(labels or {}), **kw)


def workload(name: str = "web", cpu: int = 500, memory: int = GI, replicas: int = 1, tenant: str = "",
             priority: int = 0, host_ports: tuple[int, ...] = (), **placement) -> Workload:
    ports = tuple(Port(container_port=p, host_port=p) for p in host_ports)
    return Workload(name, WorkloadSpec(Template("local/busybox:1", ports=ports, resources=Resources(cpu, memory)),
                                       replicas=replicas, tenant=tenant, priority=priority,
                                       placement=Placement(**placement)))


def pending(w: Workload, n: int | None = None, start: int = 0) -> list[PendingReplica]:
    n = w.spec.replicas if n is None else n
    return [PendingReplica(f"{w.name}-{i}", w) for i in range(start, start + n)]


def bound(replica_id: str, node_name: str, cpu: int = 500, memory: int = GI, workload_name: str | None = None,
          priority: int = 0, tenant: str = "", host_ports: tuple[int, ...] = ()) -> BoundReplica:
    return BoundReplica(replica_id, workload_name or replica_id.rsplit("-", 1)[0], node_name, Resources(cpu, memory),
                        priority, tenant, tuple(Port(container_port=p, host_port=p) for p in host_ports))


def state(nodes, bound_replicas=(), default_strategy: str = "spread") -> ClusterState:
    return ClusterState(Snapshot(tuple(nodes), tuple(bound_replicas), default_strategy))


def view(cluster: ClusterState, w: Workload) -> WorkloadState:
    return WorkloadState(cluster, Demand.of(w, cluster.default_strategy))
