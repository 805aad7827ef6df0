"""The kinds of object `get` lists (nodes, workloads, replicas, services, configs, secrets, volumes,
planes): how to fetch and filter each from the plane, its name, its table row and its API message.

Label selectors are applied here, on the client, with what the list calls already return:
a node's labels, a workload's labels from its stored manifest, and for a replica the labels
of its workload.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.selectors import Selector

ALIASES = {"nodes": "nodes", "node": "nodes", "no": "nodes",
           "workloads": "workloads", "workload": "workloads", "wl": "workloads",
           "replicas": "replicas", "replica": "replicas", "rep": "replicas",
           "services": "services", "service": "services", "svc": "services",
           "configs": "configs", "config": "configs", "secrets": "secrets", "secret": "secrets",
           "volumes": "volumes", "volume": "volumes", "vol": "volumes", "planes": "planes", "plane": "planes"}
# What `get all` lists (as kubectl's: not configs, secrets, volumes or planes).
IN_ALL = ("nodes", "workloads", "replicas", "services")


@dataclass(frozen=True)
class Filters:
    name: str = ""               # one object by name
    selector: Selector = Selector()
    workload: str = ""           # replicas of this workload (workloads: this one)
    node: str = ""               # replicas on this node


@dataclass(frozen=True)
class Kind:
    plural: str                  # nodes | workloads | replicas
    singular: str
    headers: tuple[str, ...]
    wide: tuple[str, ...]
    fetch: Callable[[Any, Filters], list]
    name: Callable[[Any], str]
    row: Callable[[Any, bool], list[str]]

    def columns(self, wide: bool) -> tuple[str, ...]:
        return self.headers + (self.wide if wide else ())

    def identity(self, item, wide: bool) -> tuple:
        """What a watch compares to tell that an object changed: its row without the AGE column,
        which changes by itself every second."""
        row = self.row(item, wide)
        age = self.headers.index("age")
        return tuple(row[:age] + row[age + 1:])


def workload_labels(info: pb.WorkloadInfo) -> dict[str, str]:
    labels = views.workload_spec(info).get("metadata", {}).get("labels", {})
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _nodes(target, f: Filters) -> list:
    nodes = target.call("ListNodes", pb.ListNodesRequest()).nodes
    return sorted((n for n in nodes if (not f.name or n.name == f.name) and f.selector.matches(n.labels)),
                  key=lambda n: n.name)


def _workloads(target, f: Filters) -> list:
    infos = target.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads
    return sorted((w for w in infos if (not f.name or w.name == f.name) and (not f.workload or w.name == f.workload)
                   and f.selector.matches(workload_labels(w))), key=lambda w: w.name)


def _replicas(target, f: Filters) -> list:
    workload = f.workload
    if f.name and not workload:
        workload = replica_workload(f.name)     # ask the plane for that workload's replicas only
    replicas = target.call("ListReplicas", pb.ListReplicasRequest(workload=workload, node=f.node)).replicas
    if f.selector:
        selected = {w.name for w in target.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads
                    if f.selector.matches(workload_labels(w))}
        replicas = [r for r in replicas if r.workload in selected]
    return sorted((r for r in replicas if not f.name or r.id == f.name), key=lambda r: (r.workload, r.index))


def service_labels(info: pb.ServiceInfo) -> dict[str, str]:
    labels = views.json_doc(info.service_json).get("metadata", {}).get("labels", {})
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _services(target, f: Filters) -> list:
    infos = target.call("ListServices", pb.ListServicesRequest()).services
    return sorted((s for s in infos if (not f.name or s.name == f.name) and f.selector.matches(service_labels(s))),
                  key=lambda s: s.name)
def _configs(target, f: Filters) -> list:
    found = target.call("ListConfigs", pb.ListConfigsRequest(name=f.name)).configs
    return sorted((c for c in found if f.selector.matches(c.labels)), key=lambda c: c.name)


def _secrets(target, f: Filters) -> list:
    found = target.call("ListSecrets", pb.ListSecretsRequest(name=f.name)).secrets
    return sorted((s for s in found if f.selector.matches(s.labels)), key=lambda s: s.name)


def _volumes(target, f: Filters) -> list:
    found = target.call("ListVolumes", pb.ListVolumesRequest(workload=f.workload, node=f.node)).volumes
    return [v for v in found if not f.name or v.name == f.name]


def _planes(target, f: Filters) -> list:
    planes = target.call("ListPlanes", pb.ListPlanesRequest()).planes
    return [p for p in planes if not f.name or p.name == f.name]


def replica_workload(replica_id: str) -> str:
    """`web-2` -> `web` (replica ids are <workload>-<index>); "" when the id has no such form."""
    workload, dash, index = replica_id.rpartition("-")
    return workload if dash and index.isdigit() else ""


KINDS = {
    "nodes": Kind("nodes", "node", views.NODE_HEADERS, views.NODE_WIDE, _nodes, lambda n: n.name,
                  lambda n, wide: views.node_row(n, wide)),
    "workloads": Kind("workloads", "workload", views.WORKLOAD_HEADERS, views.WORKLOAD_WIDE, _workloads,
                      lambda w: w.name, lambda w, wide: views.workload_row(w, wide)),
    "replicas": Kind("replicas", "replica", views.REPLICA_HEADERS, views.REPLICA_WIDE, _replicas,
                     lambda r: r.id, lambda r, wide: views.replica_row(r, wide)),
    "services": Kind("services", "service", views.SERVICE_HEADERS, views.SERVICE_WIDE, _services,
                     lambda s: s.name, lambda s, wide: views.service_row(s, wide)),
    "configs": Kind("configs", "config", views.CONFIG_HEADERS, views.CONFIG_WIDE, _configs, lambda c: c.name,
                    lambda c, wide: views.config_row(c, wide)),
    "secrets": Kind("secrets", "secret", views.SECRET_HEADERS, views.SECRET_WIDE, _secrets, lambda s: s.name,
                    lambda s, wide: views.secret_row(s, wide)),
    "volumes": Kind("volumes", "volume", views.VOLUME_HEADERS, views.VOLUME_WIDE, _volumes, lambda v: v.name,
                    lambda v, wide: views.volume_row(v, wide)),
    "planes": Kind("planes", "plane", views.PLANE_HEADERS, views.PLANE_WIDE, _planes, lambda p: p.name,
                   lambda p, wide: views.plane_row(p, wide)),
}
