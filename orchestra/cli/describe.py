"""`orchestra describe workload|node|replica|service|config|secret|volume NAME`: the spec in short,
the rollout, replicas, health checks (a service: its endpoints), recent events, and why anything
is pending, not ready, or where it went and why. A secret shows its keys and sizes, never its
values; a volume, where its data is and whose it is."""
from __future__ import annotations

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError
from orchestra.cli.output import emit
from orchestra.cli.tables import age, labels_text, shorten, table
from orchestra.spec.names import taint_text
from orchestra.spec.quantities import format_cpu, format_memory

MAX_EVENTS = 20
KINDS = ["workload", "node", "replica", "service", "config", "secret", "volume"]


@click.command()
@click.argument("kind", type=click.Choice(KINDS, case_sensitive=False))
@click.argument("name")
@click.option("-o", "--output", type=click.Choice(["json", "yaml"]), default=None, help="the API message")
@click.pass_context
def describe(ctx: click.Context, kind: str, name: str, output: str | None) -> None:
    """Show one workload, node, replica, service, config, secret or volume in detail."""
    target = cli_context(ctx).target
    kind = kind.lower()
    if kind == "workload":
        d = target.call("DescribeWorkload", pb.DescribeRequest(name=name))
        text = describe_workload(d)
    elif kind == "service":
        d = target.call("DescribeService", pb.DescribeRequest(name=name))
        text = describe_service(d)
    elif kind == "node":
        d = target.call("DescribeNode", pb.DescribeRequest(name=name))
        text = describe_node(d)
    elif kind in ("config", "secret"):
        call, request = (("ListConfigs", pb.ListConfigsRequest(name=name)) if kind == "config"
                         else ("ListSecrets", pb.ListSecretsRequest(name=name)))
        found = list(getattr(target.call(call, request), kind + "s"))
        if not found:
            raise CliError(f"{kind} {name!r} not found")
        d = found[0]
        events = target.call("ListEvents", pb.ListEventsRequest(object=name, limit=MAX_EVENTS)).events
        text = describe_data(kind, d, [e for e in events if e.kind.lower() == kind])
    elif kind == "volume":
        found = [v for v in target.call("ListVolumes", pb.ListVolumesRequest()).volumes if v.name == name]
        if not found:
            raise CliError(f"volume {name!r} not found")
        d = found[0]
        events = target.call("ListEvents", pb.ListEventsRequest(object=name, limit=MAX_EVENTS)).events
        text = describe_volume(d, [e for e in events if e.kind == "Volume"])
    else:
        found = [r for r in target.call("ListReplicas", pb.ListReplicasRequest()).replicas if r.id == name]
        if not found:
            raise CliError(f"replica {name!r} not found")
        d = found[0]
        events = target.call("ListEvents", pb.ListEventsRequest(object=name, limit=MAX_EVENTS)).events
        text = describe_replica(d, events)
    if output:
        emit(d, output)
    else:
        click.echo(text)


def _fields(pairs: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in pairs) + 2
    return [f"{(k + ':').ljust(width)}{v}" for k, v in pairs]


def describe_workload(d: pb.WorkloadDescription, now_ms: int | None = None) -> str:
    info = d.workload
    doc = views.workload_spec(info)
    spec = doc.get("spec", {})
    t = spec.get("template", {})
    p = spec.get("placement", {})
    res = t.get("resources", {})
    ports = ", ".join(_port(x) for x in t.get("ports", [])) or "<none>"
    env = ", ".join(f"{k}={_env_value(v)}" for k, v in sorted(t.get("env", {}).items())) or "<none>"
    u = spec.get("update", {})
    ro = info.rollout
    pairs = [
        ("Name", info.name + ("  (deleting: waiting for its containers to be gone)" if info.deleting else "")),
        ("Labels", labels_text(doc.get("metadata", {}).get("labels", {}))),
        ("Generation", str(info.generation)),
        ("Revision", f"{info.revision}" + (f" (last complete: {ro.stable_revision})"
                                           if ro.stable_revision != info.revision else "")),
        ("Rollout", f"{ro.state or '-'}{' (paused)' if ro.paused else ''}: {ro.message or '-'}"),
        ("Update", f"maxSurge {u.get('maxSurge', 1)}, maxUnavailable {u.get('maxUnavailable', 0)}, "
                   f"minReadySeconds {u.get('minReadySeconds', 0)}, progressDeadlineSeconds "
                   f"{u.get('progressDeadlineSeconds', 600)}, autoRollback "
                   f"{'yes' if u.get('autoRollback') else 'no'}"),
        ("Replicas", f"{info.desired} desired, {info.up_to_date} up to date, {info.ready} ready, "
                     f"{info.available} available, {info.running} running, {info.pending} pending"),
        ("Tenant", spec.get("tenant") or "<none>"),
        ("Priority", str(spec.get("priority", 0))),
        ("Image", t.get("image", "-")),
        ("Command", " ".join(_shell_word(c) for c in t.get("command", [])) or "<image default>"),
        ("Env", env),
        ("Ports", ports),
        ("Resources", f"cpu {views._cpu(res.get('cpu'))}, memory {views._memory(res.get('memory'))} per replica"),
        ("Restart policy", t.get("restartPolicy", "Always")),
        ("Health checks", _probes(t)),
        ("Stop", f"SIGTERM, SIGKILL after {t.get('terminationGracePeriodSeconds', 10)}s"),
        ("Placement", _placement(p)),
        ("Created", f"{age(info.created_at_ms, now_ms)} ago"),
    ]
    if t.get("envFrom"):
        pairs.append(("Env from", ", ".join(_env_from(e) for e in t["envFrom"])))
    if t.get("volumeMounts"):
        pairs.append(("Volumes", _volumes(t)))
    if t.get("readOnlyRootFilesystem"):
        pairs.append(("Read-only root", "yes"))
    if t.get("addCapabilities"):
        pairs.append(("Capabilities", ", ".join(t["addCapabilities"])))
    out = _fields(pairs)
    out += ["", "Replicas:"]
    if d.replicas:
        rows = [views.replica_row(r, False, now_ms) for r in sorted(d.replicas, key=lambda r: r.index)]
        out += ["  " + line for line in table(views.REPLICA_HEADERS, rows).splitlines()]
    else:
        out.append("  <none>")
    waiting = [r for r in sorted(d.replicas, key=lambda r: r.index) if r.phase != "Running" and r.reason]
    if waiting:
        out += ["", "Why not running:"]
        out += [f"  {r.id} ({r.phase}): {r.reason}" for r in waiting]
    checks = [(r.id, p) for r in sorted(d.replicas, key=lambda r: r.index) for p in r.probes]
    if checks:
        out += ["", "Last health checks:"]
        rows = [[rid, p.probe, p.result, p.action or "-", _in_a_row(p), shorten(p.message, 80) or "-"]
                for rid, p in checks]
        out += ["  " + line for line in table(("replica", "probe", "result", "check", "times", "said"),
                                               rows).splitlines()]
    out += ["", "Events:"] + _events(d.events, now_ms)
    return "\n".join(out)


def _env_value(v) -> str:
    """A variable's value, or where it comes from (a secret's value is never in the manifest)."""
    if not isinstance(v, dict):
        return str(v)
    src = v.get("valueFrom", {})
    for key, kind in (("configKeyRef", "config"), ("secretKeyRef", "secret")):
        if key in src:
            return f"<{kind} {src[key].get('name')}, key {src[key].get('key')}>"
    return "<?>"


def _env_from(e: dict) -> str:
    kind, ref = ("config", e["configRef"]) if "configRef" in e else ("secret", e.get("secretRef", {}))
    return f"every key of {kind} {ref.get('name')}" + (f" (prefix {e['prefix']})" if e.get("prefix") else "")


def _volumes(t: dict) -> str:
    sources = {}
    for v in t.get("volumes", []):
        if "config" in v:
            sources[v["name"]] = f"config {v['config'].get('name')}"
        elif "secret" in v:
            sources[v["name"]] = f"secret {v['secret'].get('secretName')}"
        else:
            sources[v["name"]] = "its own volume, kept on its node"
    return "; ".join(f"{m.get('mountPath')}: {m.get('name')} ({sources.get(m.get('name'), '?')}"
                     f"{', read-only' if m.get('readOnly') else ''})" for m in t.get("volumeMounts", []))


def describe_data(kind: str, d, events, now_ms: int | None = None) -> str:
    """A config (its entries) or a secret (its keys and sizes only)."""
    sizes = dict(d.sizes) if kind == "secret" else {k: len(v.encode()) for k, v in d.data.items()}
    pairs = [
        ("Name", d.name),
        ("Labels", labels_text(d.labels)),
        ("Version", str(d.version)),
        ("Keys", ", ".join(f"{k} ({n} bytes)" for k, n in sorted(sizes.items())) or "<none>"),
        ("Used by", ", ".join(d.used_by) or "<none>"),
        ("Created", f"{age(d.created_at_ms, now_ms)} ago"),
        ("Updated", f"{age(d.updated_at_ms, now_ms)} ago"),
    ]
    out = _fields(pairs)
    if kind == "config":
        out += ["", "Data:"]
        for k in sorted(d.data):
            out += [f"  {k}:"] + [f"    {line}" for line in d.data[k].splitlines()]
    out += ["", "Events:"] + _events(events, now_ms)
    return "\n".join(out)


def describe_volume(v: pb.VolumeInfo, events, now_ms: int | None = None) -> str:
    """One replica's named volume: whose data it holds and on which node."""
    pairs = [
        ("Name", v.name),
        ("Workload", v.workload),
        ("Volume", f"{v.volume} (spec.template.volumes)"),
        ("Replica", v.replica or f"<none> (released; it held {v.workload}-{v.index}'s data)"),
        ("Node", v.node or "<none> (its replica was never placed)"),
        ("State", v.state + (f": {v.message}" if v.message else "")),
        ("Created", f"{age(v.created_at_ms, now_ms)} ago"),
        ("Updated", f"{age(v.updated_at_ms, now_ms)} ago"),
    ]
    return "\n".join(_fields(pairs) + ["", "Events:"] + _events(events, now_ms))


def _probe_text(name: str, p: dict | None) -> str:
    if not p:
        return ""
    if "httpGet" in p:
        what = f"GET :{p['httpGet'].get('port')}{p['httpGet'].get('path', '/')}"
    elif "tcpSocket" in p:
        what = f"tcp :{p['tcpSocket'].get('port')}"
    else:
        what = "exec " + " ".join(_shell_word(c) for c in p.get("exec", {}).get("command", []))
    return (f"{name} {what} every {p.get('periodSeconds', 10)}s (timeout {p.get('timeoutSeconds', 1)}s, "
            f"after {p.get('initialDelaySeconds', 0)}s, {p.get('failureThreshold', 3)} failures)")


def _probes(t: dict) -> str:
    parts = [_probe_text(name, t.get(key)) for name, key in
             (("startup", "startupProbe"), ("readiness", "readinessProbe"), ("liveness", "livenessProbe"))]
    return "; ".join(p for p in parts if p) or "<none> (ready when running; the image's HEALTHCHECK if it has one)"


def _in_a_row(p) -> str:
    n = p.consecutive_failures if p.result == "Failure" else p.consecutive_successes
    return f"{n} in a row" if n else "-"


def describe_replica(r, events, now_ms: int | None = None) -> str:
    """One replica: where it is and why there (or why nowhere), its container, its health checks."""
    pairs = [
        ("Name", r.id),
        ("Workload", f"{r.workload} (revision {r.revision})"),
        ("Node", r.node or "<none>"),
        ("Phase", views.phase(r, now_ms) + (f": {r.reason}" if r.reason else "")),
        ("Ready", ("yes, since " + age(r.ready_since_ms, now_ms) + " ago") if r.ready else "no"),
        ("Restarts", str(r.restarts)),
        ("Container", r.container_id[:12] or "-"),
        ("Incarnation", str(r.incarnation)),
        ("Requests", f"cpu {format_cpu(r.requests.cpu_millis)}, memory {format_memory(r.requests.memory_bytes)}"),
        ("Created", f"{age(r.created_at_ms, now_ms)} ago"),
    ]
    out = _fields(pairs) + ["", "Placement:"]
    out += ["  " + line for line in placement_lines(r.placement)] or ["  <none>"]
    if r.probes:
        out += ["", "Health checks:"]
        rows = [[p.probe, p.result, p.action or "-", _in_a_row(p), shorten(p.message, 80) or "-"] for p in r.probes]
        out += ["  " + line for line in table(("probe", "result", "check", "times", "said"), rows).splitlines()]
    out += ["", "Events:"] + _events(events, now_ms)
    return "\n".join(out)


def placement_lines(p) -> list[str]:
    """The scheduler's whole explanation: every reason with its nodes, every score with its parts."""
    if not p.summary:
        return []
    lines = [p.summary]
    for x in p.rejections:
        nodes = ", ".join(x.nodes) + (f" and {x.count - len(x.nodes)} more" if x.count > len(x.nodes) else "")
        lines.append(f"  {x.count:>4} {x.reason}: {nodes}" + (f" ({x.detail})" if x.detail else ""))
    for rank, sc in enumerate(p.scores, start=1):
        parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(sc.parts.items()))
        lines.append(f"  #{rank} {sc.node} score {sc.total:.1f}" + (f" ({parts})" if parts else ""))
    if p.preempted:
        lines.append(f"  preempted: {', '.join(p.preempted)}")
    return lines


def describe_node(d: pb.NodeDescription, now_ms: int | None = None) -> str:
    n = d.node
    f = n.facts
    taints = ", ".join(taint_text(x.key, x.value, x.effect) for x in n.taints)
    pairs = [
        ("Name", n.name),
        ("Status", views.node_status(n)),
        ("Labels", labels_text(n.labels)),
        ("Taints", taints or "<none>"),
        ("Capacity", f"cpu {format_cpu(n.capacity.cpu_millis)}, memory {format_memory(n.capacity.memory_bytes)}"),
        ("Allocated", f"cpu {format_cpu(n.allocated.cpu_millis)}, memory {format_memory(n.allocated.memory_bytes)}"),
        ("Runtime", n.runtime_status or "-"),
        ("Machine", f"{f.cpus} CPUs, {format_memory(f.memory_bytes)}, {f.os or '-'}, kernel {f.kernel or '-'}, "
                    f"{f.architecture or '-'}, hypervisor {f.hypervisor or 'none'}"),
        ("Software", f"docker {f.docker_version or '-'}, agent {f.agent_version or '-'}"),
        ("Last heartbeat", f"{age(n.last_heartbeat_ms, now_ms)} ago"),
        ("Registered", f"{age(n.registered_at_ms, now_ms)} ago"),
    ]
    if n.usage.sampled_at_ms:
        u = n.usage
        pairs.append(("Usage", f"cpu {u.cpu_percent:.1f}%, memory {format_memory(u.memory_used_bytes)}/"
                               f"{format_memory(u.memory_total_bytes)}"))
        if u.agent_memory_bytes:
            pairs.append(("Agent memory", f"{format_memory(u.agent_memory_bytes)} resident"))
    out = _fields(pairs) + ["", "Replicas:"]
    if d.replicas:
        rows = [views.replica_row(r, False, now_ms) for r in sorted(d.replicas, key=lambda r: r.id)]
        out += ["  " + line for line in table(views.REPLICA_HEADERS, rows).splitlines()]
    else:
        out.append("  <none>")
    out += ["", "Events:"] + _events(d.events, now_ms)
    return "\n".join(out)


def describe_service(d: pb.ServiceDescription, now_ms: int | None = None) -> str:
    s = d.service
    doc = views.json_doc(s.service_json)
    selector = labels_text(doc.get("spec", {}).get("selector", {}))
    ready = [e for e in s.endpoints if e.ready]
    pairs = [
        ("Name", s.name),
        ("Labels", labels_text(doc.get("metadata", {}).get("labels", {}))),
        ("Selector", selector),
        ("Workloads", ", ".join(s.workloads) or "<none>"),
        ("Address", f"{s.virtual_address} (names {s.name}, {s.name}.orchestra)"),
        ("Ports", views.service_ports(s)),
        ("Endpoints", f"{len(ready)} ready of {len(s.endpoints)} (endpoints revision {s.endpoints_revision})"),
        ("Created", f"{age(s.created_at_ms, now_ms)} ago"),
    ]
    out = _fields(pairs) + ["", "Endpoints:"]
    if not s.workloads:
        out.append(f"  <none>: the selector {selector} matches no workload")
    elif not s.endpoints:
        out.append(f"  <none>: workloads {', '.join(s.workloads)} have no replicas on a node")
    else:
        target_ports = ",".join(str(p.target_port) for p in s.ports)
        rows = [[e.replica_id, e.node or "<none>", f"{e.address}:{target_ports}" if e.address else "-",
                 "yes" if e.ready else "no", e.reason or "-"] for e in s.endpoints]
        out += ["  " + line for line in table(("replica", "node", "address", "ready", "reason"), rows).splitlines()]
    out += ["", "Events:"] + _events(d.events, now_ms)
    return "\n".join(out)


def _events(events, now_ms: int | None) -> list[str]:
    recent = sorted(events, key=lambda e: e.id)[-MAX_EVENTS:]
    if not recent:
        return ["  <none>"]
    rows = [views.event_row(e, now_ms) for e in recent]
    return ["  " + line for line in table(("age", "type", "reason", "object", "message"), rows).splitlines()]


def _port(p: dict) -> str:
    text = f"{p.get('containerPort')}/{p.get('protocol', 'tcp')}"
    if p.get("hostPort"):
        text += f" -> {p.get('hostIP') or '0.0.0.0'}:{p['hostPort']}"
    return text


def _placement(p: dict) -> str:
    parts = [f"strategy {p.get('strategy') or 'cluster default'}"]
    if p.get("nodeSelector"):
        parts.append("nodeSelector " + labels_text(p["nodeSelector"]))
    for r in p.get("requiredAffinity", []):
        parts.append(f"requires {r.get('key')} {r.get('operator')} {','.join(r.get('values', []))}".rstrip())
    for term in p.get("preferredAffinity", []):
        parts.append(f"prefers (weight {term.get('weight')}) " +
                     " and ".join(f"{r.get('key')} {r.get('operator')} {','.join(r.get('values', []))}".rstrip()
                                  for r in term.get("match", [])))
    for tl in p.get("tolerations", []):
        parts.append(f"tolerates {tl.get('key') or '*'}{'=' + tl['value'] if tl.get('value') else ''}"
                     f"{':' + tl['effect'] if tl.get('effect') else ''}")
    if p.get("spreadBy"):
        parts.append(f"spread by {p['spreadBy']}")
    if p.get("maxPerNode"):
        parts.append(f"at most {p['maxPerNode']} per node")
    return "; ".join(parts)


def _shell_word(word: str) -> str:
    import shlex
    return shlex.quote(word)
