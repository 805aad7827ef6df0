"""The Service kind: a stable name and virtual address for the ready replicas of the workloads
whose metadata.labels match its selector.

    apiVersion: orchestra/v1
    kind: Service
    metadata: {name: web}                      # a DNS label: containers resolve web and web.orchestra
    spec:
      selector: {app: web}                     # at least one label; matches workloads' metadata.labels
      ports: [{name: http, port: 80, targetPort: 8080, protocol: tcp}]
      publish: [{port: 80, nodePort: 30080}]   # optional: also on this port of every node

Defaults: targetPort = port, protocol tcp, name "" (required when there are several ports).
What only the plane can check (the selector matches something, ports published by another
service, names of workloads) is in orchestra.server.services.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from orchestra.spec import names
from orchestra.spec.fields import METADATA_FIELDS, Fields
from orchestra.spec.model import API_VERSION

KIND_SERVICE = "Service"
SPEC_FIELDS = ("selector", "ports", "publish")
PORT_FIELDS = ("name", "port", "targetPort", "protocol")
PUBLISH_FIELDS = ("port", "nodePort")
_HOME = {**{f: "metadata" for f in METADATA_FIELDS}, **{f: "spec" for f in SPEC_FIELDS},
         "targetPort": "spec.ports[]", "nodePort": "spec.publish[]"}


@dataclass(frozen=True)
class ServicePort:
    port: int
    target_port: int
    name: str = ""
    protocol: str = "tcp"


@dataclass(frozen=True)
class Publish:
    port: int                     # one of the service's ports
    node_port: int


@dataclass(frozen=True)
class Service:
    KIND: ClassVar[str] = KIND_SERVICE
    name: str
    selector: Mapping[str, str]
    ports: tuple[ServicePort, ...]
    publish: tuple[Publish, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """The selector holds for a workload with these metadata.labels."""
        return all(labels.get(k) == v for k, v in self.selector.items())

    def node_port(self, port: int) -> int:
        return next((p.node_port for p in self.publish if p.port == port), 0)

    def to_dict(self) -> dict[str, Any]:
        return {"apiVersion": API_VERSION, "kind": KIND_SERVICE,
                "metadata": {"name": self.name, "labels": dict(self.labels)},
                "spec": {"selector": dict(self.selector),
                         "ports": [{"name": p.name, "port": p.port, "targetPort": p.target_port,
                                    "protocol": p.protocol} for p in self.ports],
                         "publish": [{"port": p.port, "nodePort": p.node_port} for p in self.publish]}}


def parse_service(f: Fields, top: Mapping[str, Any]) -> Service | None:
    """The top-level fields of a Service document (apiVersion and kind already checked)."""
    name, labels = f.metadata(top, _HOME, names.dns_label_problem, "web", "containers resolve it")
    value = top.get("spec")
    if value is None:
        f.error("spec", "required field is missing (expected a mapping with selector and ports, "
                        "e.g. {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]})")
        return None
    spec = f.mapping(value, "spec", SPEC_FIELDS, _HOME)
    if spec is None:
        return None
    selector = f.string_map(spec.get("selector"), "spec.selector", names.label_key_problem,
                            names.label_value_problem, key_what="label key")
    if selector is not None and not selector:
        f.error("spec.selector", "required: the labels of the workloads this service sends connections to "
                                 "(metadata.labels of a workload, e.g. {app: web})")
        selector = None
    ports = _ports(f, spec.get("ports"))
    publish = _publish(f, spec.get("publish"), ports)
    if f.errors or None in (name, labels, selector, ports, publish):
        return None
    return Service(name=name, selector=selector, ports=ports, publish=publish, labels=labels)


def _ports(f: Fields, value: Any) -> tuple[ServicePort, ...] | None:
    path = "spec.ports"
    if value is None:
        f.error(path, "required field is missing (expected a list, e.g. [{port: 80, targetPort: 8080}])")
        return None
    items = f.list_of(value, path, "[{port: 80, targetPort: 8080}]")
    if items is None:
        return None
    if not items:
        f.error(path, "must list at least one port (e.g. [{port: 80, targetPort: 8080}])")
        return None
    out: list[ServicePort] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, PORT_FIELDS, _HOME, what="a mapping with port, e.g. {port: 80, targetPort: 8080}")
        if d is None:
            ok = False
            continue
        port_name = f.string(d.get("name"), f"{p}.name", names.dns_label_problem, expected="a port name, e.g. http")
        port = f.integer(d.get("port"), f"{p}.port", 1, 65535)
        target = f.integer(d.get("targetPort"), f"{p}.targetPort", 1, 65535, port if port is not None else 0)
        protocol = d.get("protocol")
        if protocol is None or (isinstance(protocol, str) and protocol.lower() == "tcp"):
            protocol = "tcp"
        elif isinstance(protocol, str) and protocol.lower() == "udp":
            f.error(f"{p}.protocol", '"udp" is not supported yet: services carry tcp connections (protocol: tcp)')
            protocol = None
        else:
            f.error(f"{p}.protocol", f"expected tcp, got {protocol!r}")
            protocol = None
        if None in (port_name, port, target, protocol):
            ok = False
            continue
        out.append(ServicePort(port=port, target_port=target, name=port_name, protocol=protocol))
    if not ok:
        return None
    for i, port in enumerate(out):
        for j in range(i):
            if port.port == out[j].port:
                f.error(f"{path}[{i}].port", f"{port.port} is already listed in {path}[{j}]: each port of a "
                                             f"service takes its own connections")
                ok = False
            if port.name and port.name == out[j].name:
                f.error(f"{path}[{i}].name", f"{port.name!r} is already the name of {path}[{j}]")
                ok = False
    if len(out) > 1:
        for i, port in enumerate(out):
            if not port.name:
                f.error(f"{path}[{i}].name", "required when a service has several ports (e.g. name: http)")
                ok = False
    return tuple(out) if ok else None


def _publish(f: Fields, value: Any, ports: tuple[ServicePort, ...] | None) -> tuple[Publish, ...] | None:
    path = "spec.publish"
    items = f.list_of(value, path, "[{port: 80, nodePort: 30080}]")
    if items is None:
        return None
    out: list[Publish] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, PUBLISH_FIELDS, _HOME, what="a mapping with port and nodePort")
        if d is None:
            ok = False
            continue
        port = f.integer(d.get("port"), f"{p}.port", 1, 65535)
        node_port = f.integer(d.get("nodePort"), f"{p}.nodePort", 1, 65535)
        if port is None or node_port is None:
            ok = False
            continue
        if ports is not None and port not in {sp.port for sp in ports}:
            f.error(f"{p}.port", f"{port} is not one of the service's ports "
                                 f"({', '.join(str(sp.port) for sp in ports)})")
            ok = False
            continue
        for j, other in enumerate(out):
            if other.node_port == node_port:
                f.error(f"{p}.nodePort", f"{node_port} is already published by {path}[{j}]")
                ok = False
            if other.port == port:
                f.error(f"{p}.port", f"{port} is already published by {path}[{j}]")
                ok = False
        out.append(Publish(port=port, node_port=node_port))
    return tuple(out) if ok else None


def service_from_dict(data: Mapping[str, Any]) -> Service:
    from orchestra.spec.manifest import parse_document
    return parse_document(data, source="<canonical>", index=1)
