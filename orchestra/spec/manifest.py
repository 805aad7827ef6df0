"""Manifests: YAML (or canonical JSON) -> validated models (Workload, and the other KINDS).

    apiVersion: orchestra/v1
    kind: Workload
    metadata: {name, labels}
    spec: {replicas, tenant, priority, template: {...}, placement: {...}}

Every field of orchestra.spec.model, nothing else: an unknown field is an error that suggests
the closest known name. Defaults filled in when a field is absent (or null):
replicas 1, tenant "", priority 0, resources cpu 100m and memory 64Mi (each independently),
restartPolicy Always, readOnlyRootFilesystem false, port protocol tcp, placement strategy ""
(the cluster's default), maxPerNode 0 (unlimited).

Every problem of every document is reported (ManifestErrors, one per line); nothing else
ever escapes: input is untrusted (files, and JSON arriving at the server).
`parse_document(workload_to_dict(w)) == w` holds for every valid w.
"""
from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
from typing import Any, Iterable, Mapping

from orchestra.spec import names, volumes
from orchestra.spec.errors import ManifestError, raise_collected
from orchestra.spec.fields import METADATA_FIELDS, Fields, describe, quote
from orchestra.spec.model import (API_VERSION, KIND_WORKLOAD, MODES, PROBE_ACTIONS, RESTART_POLICIES,
                                  SELECTOR_OPERATORS, STRATEGIES, TAINT_EFFECTS, TOLERATION_OPERATORS,
                                  Budget, JobSpec, Placement, Port, PreferredTerm, Probe, Resources,
                                  SelectorRequirement, Template, Toleration, UpdateStrategy, Workload,
                                  WorkloadSpec)
from orchestra.spec.quantities import (CPU_EXAMPLES, MEMORY_EXAMPLES, QuantityError, format_cpu,
                                       format_memory, parse_cpu, parse_memory)
from orchestra.spec.yaml_loader import documents

MAX_FILE_BYTES = 1024 * 1024
MAX_REPLICAS = 1000
PRIORITY_RANGE = (-1_000_000, 1_000_000)
DEFAULT_CPU_MILLIS = 100                  # 100m
DEFAULT_MEMORY_BYTES = 64 * 1024 * 1024   # 64Mi
MIN_CPU_MILLIS = 10                       # Docker refuses CPU limits below 0.01
MIN_MEMORY_BYTES = 6 * 1024 * 1024        # Docker refuses memory limits below 6 MiB
PROTOCOLS = ("tcp", "udp")

TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec")
JOB_FIELDS = ("completions", "parallelism", "backoffLimit", "activeDeadlineSeconds")
SPEC_FIELDS = ("mode", "replicas", "tenant", "priority", "template", "placement", "update", *JOB_FIELDS)
TEMPLATE_FIELDS = ("image", "command", "env", "ports", "resources", "restartPolicy",
                   "readOnlyRootFilesystem", "addCapabilities", "readinessProbe", "livenessProbe",
                   "startupProbe", "terminationGracePeriodSeconds", "volumes", "volumeMounts", "envFrom")
PROBE_FIELDS = (*PROBE_ACTIONS, "initialDelaySeconds", "periodSeconds", "timeoutSeconds", "successThreshold",
                "failureThreshold")
HTTP_GET_FIELDS = ("path", "port")
TCP_SOCKET_FIELDS = ("port",)
EXEC_FIELDS = ("command",)
UPDATE_FIELDS = ("maxSurge", "maxUnavailable", "minReadySeconds", "progressDeadlineSeconds", "autoRollback")
MAX_GRACE_SECONDS = 3600
MAX_PROBE_SECONDS = 3600
MAX_DEADLINE_SECONDS = 7 * 24 * 3600
PORT_FIELDS = ("containerPort", "hostPort", "hostIP", "protocol")
RESOURCE_FIELDS = ("cpu", "memory")
PLACEMENT_FIELDS = ("nodeSelector", "requiredAffinity", "preferredAffinity", "tolerations",
                    "strategy", "spreadBy", "maxPerNode")
REQUIREMENT_FIELDS = ("key", "operator", "values")
PREFERRED_FIELDS = ("weight", "match")
TOLERATION_FIELDS = ("key", "operator", "value", "effect")

# Where a field belongs, for "unknown field" errors about a field put at the wrong level.
_HOME = {**{f: "metadata" for f in METADATA_FIELDS}, **{f: "spec" for f in SPEC_FIELDS},
         **{f: "spec.template" for f in TEMPLATE_FIELDS}, **{f: "spec.placement" for f in PLACEMENT_FIELDS},
         **{f: "spec.template.resources" for f in RESOURCE_FIELDS},
         **{f: "spec.update" for f in UPDATE_FIELDS},
         **{f: "spec" for f in JOB_FIELDS},
         **{f: "spec.template.readinessProbe" for f in PROBE_FIELDS},
         "containerPort": "spec.template.ports[]", "hostPort": "spec.template.ports[]",
         "hostIP": "spec.template.ports[]"}


# -- loading ------------------------------------------------------------------------------

def load_file(path: str | os.PathLike[str]) -> list[Any]:
    """Every document of a (multi-document) YAML file; raises ManifestError naming the file."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ManifestError(source, f"cannot read: {e.strerror or e}") from None
    except ValueError as e:   # e.g. a NUL character in the path
        raise ManifestError(source.replace("\x00", "\\x00"), f"cannot read: {e}") from None
    return load_text(data, source)


def load_files(paths: Iterable[str | os.PathLike[str] | tuple[str, str | bytes]]) -> list[Any]:
    """Documents of several files as one apply: all problems of all files, names unique (per kind)
    across them. An item may also be (source name, text), e.g. ("<stdin>", data)."""
    errors: list[ManifestError] = []
    loaded: list[tuple[str, int, Any]] = []
    for item in paths:
        try:
            if isinstance(item, tuple):
                source, workloads = item[0], load_text(item[1], item[0])
            else:
                source, workloads = os.fspath(item), load_file(item)
            for i, w in enumerate(workloads, 1):
                loaded.append((source, i, w))
        except ManifestError as e:
            errors.append(e)
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for source, i, w in loaded:
        if (w.KIND, w.name) in seen:
            first = seen[w.KIND, w.name]
            errors.append(ManifestError(source, f'{w.KIND} {quote(w.name)} is also defined in {first[0]} '
                                        f'(document {first[1]}); names must be unique in one apply',
                                        None, "metadata.name"))
        else:
            seen[w.KIND, w.name] = (source, i)
    raise_collected(errors)
    return [w for _, _, w in loaded]


def load_text(text: str | bytes, source: str = "<input>") -> list[Any]:
    """Every document of multi-document YAML `text`; empty documents are skipped."""
    text = _decoded(text, source)
    errors: list[ManifestError] = []
    workloads: list[Any] = []
    first_doc: dict[tuple[str, str], int] = {}
    try:
        for index, data in documents(text, source):
            if data is None:
                continue
            try:
                w = parse_document(data, source, index)
            except ManifestError as e:
                errors.append(e)
                continue
            if (w.KIND, w.name) in first_doc:
                errors.append(ManifestError(source, f"{quote(w.name)} is also the name of document "
                                            f"{first_doc[w.KIND, w.name]}; names must be unique in one apply",
                                            index, "metadata.name"))
                continue
            first_doc[w.KIND, w.name] = index
            workloads.append(w)
    except ManifestError as e:     # a YAML syntax error ends the file
        errors.append(e)
    raise_collected(errors)
    return workloads


def _decoded(text: str | bytes, source: str) -> str:
    if isinstance(text, str):
        if len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
            raise ManifestError(source, f"is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; "
                                        "a manifest is expected to be small")
        raw = None
    else:
        raw = bytes(text)
        if len(raw) > MAX_FILE_BYTES:
            raise ManifestError(source, f"is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; "
                                        "a manifest is expected to be small")
        if b"\x00" in raw:
            raise ManifestError(source, "is binary (it contains NUL bytes); expected UTF-8 YAML text")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ManifestError(source, f"is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                                        f"{e.start}); save it as UTF-8") from None
    if "\x00" in text:
        raise ManifestError(source, "is binary (it contains NUL characters); expected UTF-8 YAML text")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ManifestError(source, f"is not valid text (unpaired surrogate at offset {e.start})") from None
    return text


# -- one document -------------------------------------------------------------------------

def parse_document(data: Any, source: str = "<input>", index: int = 1) -> Any:
    """Validate one document (a dict from YAML or JSON) and build its model: a Workload, or the
    model of another kind of KINDS.

    Raises ManifestError (ManifestErrors when several problems) and nothing else.
    """
    f = Fields(source, index)
    try:
        doc = _document(f, data)
    except RecursionError:  # pragma: no cover - the schema is shallow; kept for hostile objects
        f.error("", "nested too deeply")
        doc = None
    raise_collected(f.all_errors())
    assert doc is not None
    return doc


def _document(f: Fields, data: Any) -> Any:
    if not isinstance(data, Mapping):
        f.error("", f"expected a mapping with apiVersion, kind, metadata and spec, got {describe(data)}")
        return None
    kind_given = data.get("kind")
    top = f.mapping(data, "", TOP_LEVEL.get(kind_given, TOP_FIELDS) if isinstance(kind_given, str) else TOP_FIELDS,
                    _HOME)
    assert top is not None
    expected = " | ".join(KINDS)
    api = f.string(top.get("apiVersion"), "apiVersion", required=True, expected=API_VERSION)
    kind = f.string(top.get("kind"), "kind", required=True, expected=expected)
    if api is not None and api != API_VERSION:
        f.error("apiVersion", f"{quote(api)} is not supported (expected {API_VERSION})")
        return None   # another API's document: its fields would only add noise
    if kind is not None and kind not in KINDS:
        f.error("kind", f"{quote(kind)} is not supported (expected {expected})")
        return None
    if kind is None:
        return None
    return KINDS[kind](f, top)


def _workload(f: Fields, top: Mapping[str, Any]) -> Workload | None:
    name, labels = f.metadata(top, _HOME, names.workload_name_problem, "web")

    spec = _spec(f, top.get("spec"))
    if f.errors or name is None or labels is None or spec is None:
        return None
    return Workload(name=name, spec=spec, labels=labels)


def _spec(f: Fields, value: Any) -> WorkloadSpec | None:
    if value is None:
        f.error("spec", "required field is missing (expected a mapping with template: {image: ...})")
        return None
    spec = f.mapping(value, "spec", SPEC_FIELDS, _HOME)
    if spec is None:
        return None
    mode = f.choice(spec.get("mode"), "spec.mode", MODES, "replicated")
    replicas = f.integer(spec.get("replicas"), "spec.replicas", 0, MAX_REPLICAS, 1)
    tenant = f.string(spec.get("tenant"), "spec.tenant", names.dns_label_problem)
    priority = f.integer(spec.get("priority"), "spec.priority", *PRIORITY_RANGE, 0)
    template = _template(f, spec.get("template"))
    placement = _placement(f, spec.get("placement"))
    update = _update(f, spec.get("update"), bool(template and volumes.persistent_volumes(template)))
    job = _job(f, spec, mode)
    if mode in ("daemon", "job") and spec.get("replicas") is not None:
        f.error("spec.replicas", "a daemon runs one replica on every eligible node: remove replicas"
                if mode == "daemon" else "a job runs parallelism replicas at a time until completions "
                                         "succeed: remove replicas (use parallelism and completions)")
        return None
    if mode in ("daemon", "job") and template is not None and not _volumes_fit_mode(f, template, mode):
        return None
    if None in (mode, replicas, tenant, priority, template, placement, update, job):
        return None
    if mode != "replicated":
        replicas = 0
    if mode == "job":
        given = (spec.get("template") or {}).get("restartPolicy")
        if given is None:
            template = dataclasses.replace(template, restart_policy="Never")
        elif template.restart_policy == "Always":
            f.error("spec.template.restartPolicy", "a job's replicas end: use Never (a failed one is replaced, "
                                                   "up to backoffLimit) or OnFailure (restarted in place)")
            return None
    return WorkloadSpec(template=template, replicas=replicas, tenant=tenant, priority=priority,
                        placement=placement, update=update, mode=mode, job=job)


def _volumes_fit_mode(f: Fields, template: Template, mode: str) -> bool:
    """A replica's own volume belongs to its index (orchestra.server.volumes): a rollout of a replicated
    workload replaces web-0 by web-0 again, which finds the data. A job's failed replica and a daemon's
    rolled one are replaced by a replica of a new index, which would start empty, so neither mode takes
    such a volume. Config and secret volumes are fine in every mode."""
    why = ("a job's failed replica is replaced by a new one, which would start with an empty volume"
           if mode == "job" else "a daemon's replica is replaced by a new one on its node at every rollout, "
                                 "which would start with an empty volume")
    for i, v in enumerate(template.volumes):
        if v.persistent:
            f.error(f"spec.template.volumes[{i}]", f"volume {quote(v.name)} has no config or secret: a volume "
                                                   f"kept per replica is for replicated workloads only ({why}); "
                                                   f"mount a config or secret, or use spec.mode: replicated")
    return not volumes.persistent_volumes(template)


def _job(f: Fields, spec: Mapping[str, Any], mode: str | None) -> JobSpec | None:
    given = [k for k in JOB_FIELDS if spec.get(k) is not None]
    if mode != "job":
        for k in given:
            f.error(f"spec.{k}", f"is for jobs only (spec.mode: job); this workload is {mode or 'replicated'}")
        return None if given else JobSpec()
    completions = f.integer(spec.get("completions"), "spec.completions", 1, MAX_REPLICAS, 1)
    parallelism = f.integer(spec.get("parallelism"), "spec.parallelism", 1, MAX_REPLICAS, 1)
    backoff = f.integer(spec.get("backoffLimit"), "spec.backoffLimit", 0, 10_000, 6)
    deadline = f.integer(spec.get("activeDeadlineSeconds"), "spec.activeDeadlineSeconds", 0, MAX_DEADLINE_SECONDS, 0)
    if None in (completions, parallelism, backoff, deadline):
        return None
    return JobSpec(completions=completions, parallelism=parallelism, backoff_limit=backoff,
                   active_deadline_seconds=deadline)


def _template(f: Fields, value: Any) -> Template | None:
    path = "spec.template"
    if value is None:
        f.error(path, "required field is missing (expected a mapping with image, e.g. {image: local/busybox:1})")
        return None
    t = f.mapping(value, path, TEMPLATE_FIELDS, _HOME)
    if t is None:
        return None
    image = f.string(t.get("image"), f"{path}.image", names.image_problem, required=True,
                     expected="an image reference, e.g. local/busybox:1")
    command = f.string_list(t.get("command"), f"{path}.command", '[httpd, -f, -p, "8080"]')
    raw_env = t.get("env")
    refs: dict[str, Any] = {}
    if isinstance(raw_env, Mapping):   # a value may be {valueFrom: ...} (orchestra.spec.volumes)
        # (a key that is no string stays with the plain variables, whose check names it)
        refs = {k: v for k, v in raw_env.items() if isinstance(k, str) and isinstance(v, Mapping)}
        raw_env = {k: v for k, v in raw_env.items() if k not in refs}
    env = f.string_map(raw_env, f"{path}.env", names.env_name_problem, key_what="variable name")
    env_refs = volumes.parse_env_refs(f, refs, f"{path}.env")
    declared = volumes.parse_volumes(f, t.get("volumes"), f"{path}.volumes")
    mounts = volumes.parse_mounts(f, t.get("volumeMounts"), f"{path}.volumeMounts", declared) \
        if declared is not None else None
    env_from = volumes.parse_env_from(f, t.get("envFrom"), f"{path}.envFrom")
    ports = _ports(f, t.get("ports"), f"{path}.ports")
    resources = _resources(f, t.get("resources"), f"{path}.resources")
    restart = f.choice(t.get("restartPolicy"), f"{path}.restartPolicy", RESTART_POLICIES, "Always")
    read_only = f.boolean(t.get("readOnlyRootFilesystem"), f"{path}.readOnlyRootFilesystem", False)
    caps = _capabilities(f, t.get("addCapabilities"), f"{path}.addCapabilities")
    probes = {name: _probe(f, t.get(name), f"{path}.{name}", liveness_like=name != "readinessProbe")
              for name in ("readinessProbe", "livenessProbe", "startupProbe")}
    grace = f.integer(t.get("terminationGracePeriodSeconds"), f"{path}.terminationGracePeriodSeconds", 0,
                      MAX_GRACE_SECONDS, 10)
    if None in (image, command, env, ports, resources, restart, read_only, caps, grace, env_refs, declared,
                mounts, env_from) or any(p is _INVALID for p in probes.values()):
        return None
    template = Template(image=image, command=command, env=env, ports=ports, resources=resources,
                        restart_policy=restart, read_only_root_fs=read_only, add_capabilities=caps,
                        readiness_probe=probes["readinessProbe"], liveness_probe=probes["livenessProbe"],
                        startup_probe=probes["startupProbe"], termination_grace_period_seconds=grace,
                        volumes=declared, volume_mounts=mounts, env_refs=env_refs, env_from=env_from)
    return template if volumes.check_shell_names(f, template, path) else None


_INVALID = object()   # a probe that was given but is wrong (None means: not given)


def _probe(f: Fields, value: Any, path: str, liveness_like: bool) -> Probe | None | object:
    if value is None:
        return None
    d = f.mapping(value, path, PROBE_FIELDS, what="a mapping with one of exec, httpGet, tcpSocket")
    if d is None:
        return _INVALID
    actions = [a for a in PROBE_ACTIONS if a in d]
    if len(actions) != 1:
        f.error(path, ("needs one of exec, httpGet or tcpSocket (e.g. httpGet: {path: /, port: 8080})" if not actions
                       else f"has {' and '.join(actions)}: give exactly one of exec, httpGet or tcpSocket"))
        return _INVALID
    action = actions[0]
    apath = f"{path}.{action}"
    command: tuple[str, ...] | None = ()
    port: int | None = 0
    http_path: str | None = "/"
    if action == "exec":
        a = f.mapping(d[action], apath, EXEC_FIELDS, what="a mapping with command, e.g. {command: [cat, /tmp/ok]}")
        command = f.string_list(a.get("command") if a else None, f"{apath}.command", "[cat, /tmp/ok]")
        if a is None or command is None:
            return _INVALID
        if not command:
            f.error(f"{apath}.command", "required field is missing (expected the command to run, e.g. [cat, /tmp/ok])")
            return _INVALID
    else:
        known = HTTP_GET_FIELDS if action == "httpGet" else TCP_SOCKET_FIELDS
        a = f.mapping(d[action], apath, known, what="a mapping with port, e.g. {port: 8080}")
        if a is None:
            return _INVALID
        port = _probe_port(f, a.get("port"), f"{apath}.port")
        if action == "httpGet":
            http_path = f.string(a.get("path"), f"{apath}.path", _http_path_problem, expected="a path, e.g. /healthz")
            http_path = "/" if http_path == "" else http_path
        if port is None or http_path is None:
            return _INVALID
    delay = f.integer(d.get("initialDelaySeconds"), f"{path}.initialDelaySeconds", 0, MAX_PROBE_SECONDS, 0)
    period = f.integer(d.get("periodSeconds"), f"{path}.periodSeconds", 1, MAX_PROBE_SECONDS, 10)
    timeout = f.integer(d.get("timeoutSeconds"), f"{path}.timeoutSeconds", 1, MAX_PROBE_SECONDS, 1)
    success = f.integer(d.get("successThreshold"), f"{path}.successThreshold", 1, 1000, 1)
    failure = f.integer(d.get("failureThreshold"), f"{path}.failureThreshold", 1, 1000, 3)
    if None in (delay, period, timeout, success, failure):
        return _INVALID
    if liveness_like and success != 1:
        f.error(f"{path}.successThreshold", f"{success} is not allowed: a liveness or startup probe succeeds "
                                            f"on its first success (successThreshold must be 1)")
        return _INVALID
    return Probe(action=action, command=command, path=http_path, port=port, initial_delay_seconds=delay,
                 period_seconds=period, timeout_seconds=timeout, success_threshold=success,
                 failure_threshold=failure)


def _probe_port(f: Fields, value: Any, path: str) -> int | None:
    if isinstance(value, str) and not value.isdigit():
        f.error(path, f"{quote(value)} is not a port number (named ports are not supported: give the "
                      f"containerPort number, e.g. 8080)")
        return None
    return f.integer(value, path, 1, 65535)


def _http_path_problem(text: str) -> str | None:
    if text and not text.startswith("/"):
        return "must start with / (e.g. /healthz)"
    if any(c.isspace() for c in text):
        return "must not contain spaces"
    return None


def _budget(f: Fields, value: Any, path: str, default: Budget) -> Budget | None:
    if value is None:
        return default
    if isinstance(value, str) and value.endswith("%"):
        number = value[:-1]
        if number.isdigit() and 0 <= int(number) <= 100:
            return Budget(int(number), percent=True)
        f.error(path, f"{quote(value)} is not a percentage from 0% to 100%")
        return None
    if isinstance(value, str):
        f.error(path, f"{quote(value)} is not valid (expected a number of replicas, e.g. 1, or a percentage, "
                      f"e.g. 25%)")
        return None
    n = f.integer(value, path, 0, MAX_REPLICAS)
    return None if n is None else Budget(n)


def _update(f: Fields, value: Any, in_place: bool = False) -> UpdateStrategy | None:
    """`in_place`: the template has persistent volumes. A replica's volume belongs to its index, so a
    rollout replaces each replica where it is, one budget at a time: no surge (defaults maxSurge 0,
    maxUnavailable 1)."""
    path = "spec.update"
    u = f.mapping(value, path, UPDATE_FIELDS, _HOME)
    if u is None:
        return None
    surge = _budget(f, u.get("maxSurge"), f"{path}.maxSurge", Budget(0) if in_place else Budget(1))
    unavailable = _budget(f, u.get("maxUnavailable"), f"{path}.maxUnavailable", Budget(1 if in_place else 0))
    if in_place and surge is not None and surge.value:
        f.error(f"{path}.maxSurge", f"{surge.text()} is not possible with volumes (spec.template.volumes): a "
                                    f"replica's volume holds its data, so a rollout stops it before its successor "
                                    f"starts on the same node (maxSurge: 0, maxUnavailable: 1 or more)")
        return None
    min_ready = f.integer(u.get("minReadySeconds"), f"{path}.minReadySeconds", 0, MAX_DEADLINE_SECONDS, 0)
    deadline = f.integer(u.get("progressDeadlineSeconds"), f"{path}.progressDeadlineSeconds", 1,
                         MAX_DEADLINE_SECONDS, 600)
    auto = f.boolean(u.get("autoRollback"), f"{path}.autoRollback", False)
    if None in (surge, unavailable, min_ready, deadline, auto):
        return None
    if surge.value == 0 and unavailable.value == 0:
        f.error(path, "maxSurge and maxUnavailable are both 0: a rolling update could neither add a new replica "
                      "nor stop an old one (e.g. maxSurge: 1, or maxUnavailable: 1)")
        return None
    if deadline <= min_ready:
        f.error(f"{path}.progressDeadlineSeconds", f"{deadline} must be more than minReadySeconds ({min_ready}): "
                                                   f"a new replica could never count as available in time")
        return None
    return UpdateStrategy(max_surge=surge, max_unavailable=unavailable, min_ready_seconds=min_ready,
                          progress_deadline_seconds=deadline, auto_rollback=auto)


def _ports(f: Fields, value: Any, path: str) -> tuple[Port, ...] | None:
    items = f.list_of(value, path, "[{containerPort: 8080}]")
    if items is None:
        return None
    ports: list[Port] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, PORT_FIELDS, what="a mapping with containerPort")
        if d is None:
            ok = False
            continue
        container = f.integer(d.get("containerPort"), f"{p}.containerPort", 1, 65535)
        host = f.integer(d.get("hostPort"), f"{p}.hostPort", 0, 65535, 0)
        host_ip = f.string(d.get("hostIP"), f"{p}.hostIP", _ip_problem, expected="an IP address")
        protocol = _protocol(f, d.get("protocol"), f"{p}.protocol")
        if None in (container, host, host_ip, protocol):
            ok = False
            continue
        if host_ip:
            host_ip = str(ipaddress.ip_address(host_ip))   # canonical spelling
            if not host:
                f.error(f"{p}.hostIP", "is set but hostPort is not: hostIP only says where a "
                                       "published hostPort listens")
                ok = False
                continue
        ports.append(Port(container_port=container, host_port=host, host_ip=host_ip, protocol=protocol))
    if not ok:
        return None
    for i, port in enumerate(ports):
        for j in range(i):
            other = ports[j]
            if (port.container_port, port.protocol) == (other.container_port, other.protocol):
                f.error(f"{path}[{i}].containerPort", f"{port.container_port}/{port.protocol} is "
                                                      f"already listed in {path}[{j}]")
                ok = False
            elif port.host_port and (port.host_port, port.protocol) == (other.host_port, other.protocol) \
                    and (not port.host_ip or not other.host_ip or port.host_ip == other.host_ip):
                f.error(f"{path}[{i}].hostPort", f"{port.host_port}/{port.protocol} is already "
                                                 f"published by {path}[{j}]")
                ok = False
    return tuple(ports) if ok else None


def _protocol(f: Fields, value: Any, path: str) -> str | None:
    if value is None:
        return "tcp"
    if not isinstance(value, str):
        f.wrong_type(path, "tcp or udp", value)
        return None
    if value.lower() in PROTOCOLS:
        return value.lower()   # TCP as Kubernetes writes it, tcp as Docker does: both fine
    f.error(path, f"{quote(value)} is not valid (expected tcp or udp)")
    return None


def _ip_problem(text: str) -> str | None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return "is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)"
    return None


def _resources(f: Fields, value: Any, path: str) -> Resources | None:
    r = f.mapping(value, path, RESOURCE_FIELDS, _HOME)
    if r is None:
        return None
    cpu = _quantity(f, r.get("cpu"), f"{path}.cpu", parse_cpu, DEFAULT_CPU_MILLIS, MIN_CPU_MILLIS,
                    format_cpu, "CPU", CPU_EXAMPLES, "Docker's smallest CPU limit")
    memory = _quantity(f, r.get("memory"), f"{path}.memory", parse_memory, DEFAULT_MEMORY_BYTES,
                       MIN_MEMORY_BYTES, format_memory, "memory", MEMORY_EXAMPLES,
                       "Docker's smallest memory limit")
    if cpu is None or memory is None:
        return None
    return Resources(cpu_millis=cpu, memory_bytes=memory)


def _quantity(f: Fields, value: Any, path: str, parse: Any, default: int, minimum: int,
              fmt: Any, what: str, examples: str, why_min: str) -> int | None:
    if value is None:
        return default
    try:
        amount = parse(value)
    except QuantityError as e:
        f.error(path, str(e))
        return None
    if amount < minimum:
        f.error(path, f"{fmt(amount)} is too small (at least {fmt(minimum)}, {why_min}; {examples})")
        return None
    return amount


def _capabilities(f: Fields, value: Any, path: str) -> tuple[str, ...] | None:
    items = f.string_list(value, path, "[NET_BIND_SERVICE]")
    if items is None:
        return None
    out: list[str] = []
    ok = True
    for i, text in enumerate(items):
        name = names.capability_name(text)
        if name is None:
            close = difflib.get_close_matches(text.upper().removeprefix("CAP_"), sorted(names.CAPABILITIES), n=1)
            hint = f"did you mean {close[0]}?" if close else "e.g. NET_BIND_SERVICE, NET_ADMIN, SYS_TIME"
            f.error(f.item(path, i), f"{quote(text)} is not a Linux capability ({hint})")
            ok = False
        elif name in out:
            f.error(f.item(path, i), f"{name} is listed twice")
            ok = False
        else:
            out.append(name)
    return tuple(out) if ok else None


# -- placement ----------------------------------------------------------------------------

def _placement(f: Fields, value: Any) -> Placement | None:
    path = "spec.placement"
    p = f.mapping(value, path, PLACEMENT_FIELDS, _HOME)
    if p is None:
        return None
    selector = f.string_map(p.get("nodeSelector"), f"{path}.nodeSelector", names.label_key_problem,
                            names.label_value_problem, key_what="label key")
    required = _requirements(f, p.get("requiredAffinity"), f"{path}.requiredAffinity")
    preferred = _preferred(f, p.get("preferredAffinity"), f"{path}.preferredAffinity")
    tolerations = _tolerations(f, p.get("tolerations"), f"{path}.tolerations")
    strategy = f.choice(p.get("strategy"), f"{path}.strategy", STRATEGIES, "", allow_empty=True)
    spread_by = f.string(p.get("spreadBy"), f"{path}.spreadBy", names.label_key_problem,
                         expected="a node label key, e.g. zone")
    max_per_node = f.integer(p.get("maxPerNode"), f"{path}.maxPerNode", 0, MAX_REPLICAS, 0)
    if None in (selector, required, preferred, tolerations, strategy, spread_by, max_per_node):
        return None
    return Placement(node_selector=selector, required=required, preferred=preferred, tolerations=tolerations,
                     strategy=strategy, spread_by=spread_by, max_per_node=max_per_node)


def _requirements(f: Fields, value: Any, path: str, need_one: bool = False) -> tuple[SelectorRequirement, ...] | None:
    items = f.list_of(value, path, "[{key: zone, operator: In, values: [a, b]}]")
    if items is None:
        return None
    if need_one and not items:
        f.error(path, "must list at least one requirement (e.g. [{key: zone, operator: In, values: [a]}])")
        return None
    out: list[SelectorRequirement] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, REQUIREMENT_FIELDS, what="a mapping with key and operator")
        if d is None:
            ok = False
            continue
        key = f.string(d.get("key"), f"{p}.key", names.label_key_problem, required=True,
                       expected="a node label key, e.g. zone")
        op = d.get("operator")
        if op is None:
            f.error(f"{p}.operator", f"required field is missing (expected one of {' | '.join(SELECTOR_OPERATORS)})")
        else:
            op = f.choice(op, f"{p}.operator", SELECTOR_OPERATORS, "")
        values = f.string_list(d.get("values"), f"{p}.values", "[a, b]", names.label_value_problem)
        if key is None or op is None or values is None:
            ok = False
            continue
        if op in ("In", "NotIn") and not values:
            f.error(f"{p}.values", f"operator {op} needs at least one value (e.g. values: [a, b])")
            ok = False
            continue
        if op in ("Exists", "DoesNotExist") and values:
            f.error(f"{p}.values", f"operator {op} takes no values (remove values, or use In / NotIn)")
            ok = False
            continue
        out.append(SelectorRequirement(key=key, operator=op, values=values))
    return tuple(out) if ok else None


def _preferred(f: Fields, value: Any, path: str) -> tuple[PreferredTerm, ...] | None:
    items = f.list_of(value, path, "[{weight: 50, match: [{key: zone, operator: In, values: [a]}]}]")
    if items is None:
        return None
    out: list[PreferredTerm] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, PREFERRED_FIELDS, what="a mapping with weight and match")
        if d is None:
            ok = False
            continue
        weight = f.integer(d.get("weight"), f"{p}.weight", 1, 100)
        match = _requirements(f, d.get("match"), f"{p}.match", need_one=True)
        if weight is None or match is None:
            ok = False
            continue
        out.append(PreferredTerm(weight=weight, match=match))
    return tuple(out) if ok else None


def _tolerations(f: Fields, value: Any, path: str) -> tuple[Toleration, ...] | None:
    items = f.list_of(value, path, "[{key: dedicated, operator: Equal, value: gpu}]")
    if items is None:
        return None
    out: list[Toleration] = []
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, TOLERATION_FIELDS, what="a mapping with key, operator, value, effect")
        if d is None:
            ok = False
            continue
        key = f.string(d.get("key"), f"{p}.key", names.label_key_problem)
        op = f.choice(d.get("operator"), f"{p}.operator", TOLERATION_OPERATORS, "Equal")
        val = f.string(d.get("value"), f"{p}.value", names.label_value_problem)
        effect = f.choice(d.get("effect"), f"{p}.effect", TAINT_EFFECTS, "", allow_empty=True)
        if None in (key, op, val, effect):
            ok = False
            continue
        if op == "Equal" and not key:
            f.error(f"{p}.key", "operator Equal needs a key (or use operator Exists with no key "
                                "to tolerate every taint)")
            ok = False
            continue
        if op == "Exists" and val:
            f.error(f"{p}.value", "operator Exists takes no value (remove value, or use operator Equal)")
            ok = False
            continue
        out.append(Toleration(key=key, operator=op, value=val, effect=effect))
    return tuple(out) if ok else None


# Every kind a manifest may hold: its `kind` -> the parser of a document's top-level fields
# (apiVersion and kind already checked). Another kind's module adds itself here.
KINDS: dict[str, Any] = {KIND_WORKLOAD: _workload}
# The top-level fields of a kind that has others than TOP_FIELDS (e.g. data).
TOP_LEVEL: dict[str, tuple[str, ...]] = {}

from orchestra.spec import configs  # noqa: E402 (their own module, registered here)
from orchestra.spec.service import KIND_SERVICE, parse_service  # noqa: E402 (its own module, registered here)

KINDS[KIND_SERVICE] = parse_service
KINDS[configs.KIND_CONFIG] = configs.parse_config
KINDS[configs.KIND_SECRET] = configs.parse_secret
TOP_LEVEL[configs.KIND_CONFIG] = configs.CONFIG_FIELDS
TOP_LEVEL[configs.KIND_SECRET] = configs.SECRET_FIELDS
