"""The validated workload model: what a manifest means once it has been checked.

Everything here is immutable and already normalised (quantities in millicores and
bytes, defaults filled in). `to_dict`/`from_dict` give the canonical JSON form that
travels over the API and is stored by the plane.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

API_VERSION = "orchestra/v1"
KIND_WORKLOAD = "Workload"

RESTART_POLICIES = ("Always", "OnFailure", "Never")
MODES = ("replicated", "daemon", "job")
STRATEGIES = ("binpack", "spread")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
TAINT_EFFECTS = ("NoSchedule",)
TOLERATION_OPERATORS = ("Equal", "Exists")


@dataclass(frozen=True)
class Resources:
    cpu_millis: int = 0
    memory_bytes: int = 0

    def __add__(self, other: "Resources") -> "Resources":
        return Resources(self.cpu_millis + other.cpu_millis, self.memory_bytes + other.memory_bytes)

    def __sub__(self, other: "Resources") -> "Resources":
        return Resources(self.cpu_millis - other.cpu_millis, self.memory_bytes - other.memory_bytes)

    def fits_in(self, free: "Resources") -> bool:
        return self.cpu_millis <= free.cpu_millis and self.memory_bytes <= free.memory_bytes


@dataclass(frozen=True)
class Port:
    container_port: int
    host_port: int = 0            # 0: not published
    host_ip: str = ""             # "": all addresses
    protocol: str = "tcp"


@dataclass(frozen=True)
class SelectorRequirement:
    """One term of node affinity: label `key` `operator` `values`."""
    key: str
    operator: str                 # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class PreferredTerm:
    weight: int                   # 1..100
    match: tuple[SelectorRequirement, ...]


@dataclass(frozen=True)
class Toleration:
    key: str = ""                 # "" with operator Exists tolerates every taint
    operator: str = "Equal"       # Equal | Exists
    value: str = ""
    effect: str = ""              # "" matches every effect


@dataclass(frozen=True)
class Taint:
    key: str
    value: str = ""
    effect: str = "NoSchedule"


@dataclass(frozen=True)
class Placement:
    node_selector: Mapping[str, str] = field(default_factory=dict)
    required: tuple[SelectorRequirement, ...] = ()      # all must hold
    preferred: tuple[PreferredTerm, ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    strategy: str = ""            # binpack | spread | "" (cluster default)
    spread_by: str = ""           # node label to spread replicas over, e.g. "zone"
    max_per_node: int = 0         # 0: unlimited


PROBE_ACTIONS = ("exec", "httpGet", "tcpSocket")


@dataclass(frozen=True)
class Probe:
    """A health check of a container, run by its agent (Kubernetes semantics and defaults)."""
    action: str                   # exec | httpGet | tcpSocket
    command: tuple[str, ...] = ()  # exec
    path: str = "/"               # httpGet
    port: int = 0                 # httpGet, tcpSocket
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3

    def describe(self) -> str:
        """What it checks, as people write it: GET :8080/healthz, tcp :6379, exec cat /tmp/ok."""
        if self.action == "httpGet":
            return f"GET :{self.port}{self.path}"
        if self.action == "tcpSocket":
            return f"tcp :{self.port}"
        return "exec " + " ".join(self.command)


@dataclass(frozen=True)
class Template:
    image: str
    command: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    resources: Resources = Resources()
    restart_policy: str = "Always"
    read_only_root_fs: bool = False
    add_capabilities: tuple[str, ...] = ()
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    startup_probe: Probe | None = None
    termination_grace_period_seconds: int = 10
    # orchestra.spec.volumes: volumes and their mounts, variables from configs and secrets.
    volumes: tuple = ()                                          # of Volume
    volume_mounts: tuple = ()                                    # of VolumeMount
    env_refs: Mapping[str, Any] = field(default_factory=dict)    # variable -> KeyRef
    env_from: tuple = ()                                         # of EnvFrom


@dataclass(frozen=True)
class Budget:
    """maxSurge / maxUnavailable: a count, or a percentage of the desired replicas."""
    value: int
    percent: bool = False

    def resolve(self, replicas: int, round_up: bool) -> int:
        if not self.percent:
            return self.value
        scaled = self.value * replicas
        return -(-scaled // 100) if round_up else scaled // 100

    def text(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


@dataclass(frozen=True)
class UpdateStrategy:
    """How a new revision replaces the old one: a rolling update gated on readiness."""
    max_surge: Budget = Budget(1)
    max_unavailable: Budget = Budget(0)
    min_ready_seconds: int = 0
    progress_deadline_seconds: int = 600
    auto_rollback: bool = False

    def limits(self, replicas: int) -> tuple[int, int]:
        """(maxSurge, maxUnavailable) in replicas, rounded like Kubernetes: surge up, unavailable
        down; when both come to 0 (small percentages of few replicas), one may be unavailable."""
        surge = self.max_surge.resolve(replicas, round_up=True)
        unavailable = self.max_unavailable.resolve(replicas, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return surge, unavailable


@dataclass(frozen=True)
class JobSpec:
    """A job runs its replicas to completion: `completions` successful ones, at most `parallelism`
    at a time; it fails after more than `backoff_limit` failures or `active_deadline_seconds`."""
    completions: int = 1
    parallelism: int = 1
    backoff_limit: int = 6
    active_deadline_seconds: int = 0      # 0: no deadline


@dataclass(frozen=True)
class WorkloadSpec:
    template: Template
    replicas: int = 1                     # replicated only; a daemon runs one per eligible node
    tenant: str = ""
    priority: int = 0
    placement: Placement = Placement()
    update: UpdateStrategy = UpdateStrategy()
    mode: str = "replicated"              # replicated | daemon | job
    job: JobSpec = JobSpec()              # job only


@dataclass(frozen=True)
class Workload:
    KIND: ClassVar[str] = KIND_WORKLOAD
    name: str
    spec: WorkloadSpec
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return workload_to_dict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "Workload":
        return workload_from_dict(data)


def _requirement_to_dict(r: SelectorRequirement) -> dict[str, Any]:
    d: dict[str, Any] = {"key": r.key, "operator": r.operator}
    if r.values:
        d["values"] = list(r.values)
    return d


def _probe_to_dict(probe: Probe | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    action: dict[str, Any]
    if probe.action == "exec":
        action = {"command": list(probe.command)}
    elif probe.action == "httpGet":
        action = {"path": probe.path, "port": probe.port}
    else:
        action = {"port": probe.port}
    return {probe.action: action, "initialDelaySeconds": probe.initial_delay_seconds,
            "periodSeconds": probe.period_seconds, "timeoutSeconds": probe.timeout_seconds,
            "successThreshold": probe.success_threshold, "failureThreshold": probe.failure_threshold}


def _budget(b: Budget) -> int | str:
    return f"{b.value}%" if b.percent else b.value


def workload_to_dict(w: Workload) -> dict[str, Any]:
    """The canonical manifest document for `w`: every field explicit, keys sorted by json.dumps
    (volumes, volumeMounts and envFrom only when given: a workload without them keeps the form,
    and so the template hash, it had before they existed)."""
    t, p, u = w.spec.template, w.spec.placement, w.spec.update
    doc = {
        "apiVersion": API_VERSION,
        "kind": KIND_WORKLOAD,
        "metadata": {"name": w.name, "labels": dict(w.labels)},
        "spec": {
            "tenant": w.spec.tenant,
            "priority": w.spec.priority,
            "template": {
                "image": t.image,
                "command": list(t.command),
                "env": dict(t.env),
                "ports": [{"containerPort": q.container_port, "hostPort": q.host_port,
                           "hostIP": q.host_ip, "protocol": q.protocol} for q in t.ports],
                "resources": {"cpu": f"{t.resources.cpu_millis}m", "memory": str(t.resources.memory_bytes)},
                "restartPolicy": t.restart_policy,
                "readOnlyRootFilesystem": t.read_only_root_fs,
                "addCapabilities": list(t.add_capabilities),
                "readinessProbe": _probe_to_dict(t.readiness_probe),
                "livenessProbe": _probe_to_dict(t.liveness_probe),
                "startupProbe": _probe_to_dict(t.startup_probe),
                "terminationGracePeriodSeconds": t.termination_grace_period_seconds,
            },
            "placement": {
                "nodeSelector": dict(p.node_selector),
                "requiredAffinity": [_requirement_to_dict(r) for r in p.required],
                "preferredAffinity": [{"weight": pt.weight, "match": [_requirement_to_dict(r) for r in pt.match]}
                                      for pt in p.preferred],
                "tolerations": [{"key": tl.key, "operator": tl.operator, "value": tl.value, "effect": tl.effect}
                                for tl in p.tolerations],
                "strategy": p.strategy,
                "spreadBy": p.spread_by,
                "maxPerNode": p.max_per_node,
            },
            "update": {"maxSurge": _budget(u.max_surge), "maxUnavailable": _budget(u.max_unavailable),
                       "minReadySeconds": u.min_ready_seconds,
                       "progressDeadlineSeconds": u.progress_deadline_seconds,
                       "autoRollback": u.auto_rollback},
            "mode": w.spec.mode,
            **_mode_fields(w.spec),
        },
    }
    _add_volumes(doc["spec"]["template"], t)
    return doc


def _add_volumes(out: dict[str, Any], t: Template) -> None:
    from orchestra.spec import volumes
    out["env"].update({k: volumes.key_ref_to_dict(r) for k, r in t.env_refs.items()})
    if t.volumes:
        out["volumes"] = [volumes.volume_to_dict(v) for v in t.volumes]
    if t.volume_mounts:
        out["volumeMounts"] = [volumes.mount_to_dict(m) for m in t.volume_mounts]
    if t.env_from:
        out["envFrom"] = [volumes.env_from_to_dict(e) for e in t.env_from]


def _mode_fields(spec: WorkloadSpec) -> dict[str, Any]:
    """`replicas` for a replicated workload, the job's counts for a job, nothing for a daemon."""
    if spec.mode == "replicated":
        return {"replicas": spec.replicas}
    if spec.mode == "job":
        j = spec.job
        return {"completions": j.completions, "parallelism": j.parallelism, "backoffLimit": j.backoff_limit,
                "activeDeadlineSeconds": j.active_deadline_seconds}
    return {}


def workload_from_dict(data: Mapping[str, Any]) -> Workload:
    """Inverse of workload_to_dict. Input from outside goes through orchestra.spec.manifest, which validates."""
    from orchestra.spec.manifest import parse_document
    return parse_document(data, source="<canonical>", index=1)
