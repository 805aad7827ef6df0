"""Configs and secrets on the plane: what a workload's template reads of them (how an apply
changes them: orchestra.server.config_plan).

A revision of a workload covers what its containers get of the configs and secrets it uses: a
snapshot of each ("config/NAME" -> {digest, data}; "secret/NAME" -> {digest, sealed, key_id},
still sealed) is kept on the revision, and their digests go into its template hash. So a
changed Config or Secret makes a new revision of every workload that uses it (but a job:
orchestra.server.config_plan), which the usual
rolling update (readiness-gated, within maxSurge / maxUnavailable) rolls out; replicas of the
old revision keep the old content until they are replaced; an undo or rollback brings back
the content the old revision had.

Secrets are stored sealed (orchestra.security.secret_box) and opened only to build the desired
set of a node that runs a replica using them, and here, to check that a value used as a
variable has no NUL byte.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable

from orchestra.security.secret_box import SecretBox
from orchestra.spec import names as name_rules
from orchestra.spec import volumes
from orchestra.spec.model import Workload
from orchestra.store.records import ConfigRecord, SecretRecord

KINDS = (volumes.CONFIG, volumes.SECRET)


def ref_key(kind: str, name: str) -> str:
    return f"{kind.lower()}/{name}"


def config_digest(data: dict[str, str]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Objects:
    """The configs and secrets as they are once an apply's changes are committed."""

    def __init__(self, stored_configs: dict[str, ConfigRecord], stored_secrets: dict[str, SecretRecord],
                 box: SecretBox, planned: Iterable[tuple[str, str, ConfigRecord | SecretRecord]] = ()):
        self._stored = {volumes.CONFIG: stored_configs, volumes.SECRET: stored_secrets}
        self.box = box
        self._planned = {(kind, name): rec for kind, name, rec in planned}

    def get(self, kind: str, name: str) -> ConfigRecord | SecretRecord | None:
        if (kind, name) in self._planned:
            return self._planned[kind, name]
        return self._stored[kind].get(name)


@dataclass
class Resolved:
    """What a workload's template reads of configs and secrets: the snapshot its revision keeps."""
    refs: dict = field(default_factory=dict)

    @property
    def digests(self) -> dict[str, str]:
        return digests(self.refs)


def digests(refs: dict) -> dict[str, str]:
    """{"secret/db": digest, ...} of a revision's snapshot: what its template hash covers."""
    return {k: v.get("digest", "") for k, v in refs.items()}


def resolve(w: Workload, objects: Objects) -> tuple[Resolved, list[str]]:
    """The snapshot of what `w` uses, and the problems: a missing config, secret or key, a key that
    is not a valid variable name, a secret value that cannot be a variable."""
    out, problems = Resolved(), []
    opened: dict[str, dict[str, bytes]] = {}
    for ref in volumes.references(w.spec.template):
        what = ref.kind.lower()
        rec = objects.get(ref.kind, ref.name)
        where = f"workload {w.name}: {ref.path}"
        if rec is None:
            problems.append(f"{where}: {what} {ref.name!r} does not exist (apply a {ref.kind} named {ref.name} "
                            f"first, or in the same apply)")
            continue
        keys = sorted(rec.data if isinstance(rec, ConfigRecord) else rec.sizes)
        if ref.key and ref.key not in keys:
            problems.append(f"workload {w.name}: {ref.key_path or ref.path}: key {ref.key!r} is not in {what} "
                            f"{ref.name} (its keys: {', '.join(keys) or 'none'})")
            continue
        if ref.as_variable:
            shell = ref.kind == volumes.SECRET or volumes.secret_variables(w.spec.template)
            check = name_rules.shell_name_problem if shell else name_rules.env_name_problem
            variables = [(ref.key, ref.key)] if ref.key else [(k, ref.prefix + k) for k in keys]
            for key, var in variables:
                if not ref.key:
                    problem = check(var)
                    if problem:
                        problems.append(f"{where}: key {key!r} of {what} {ref.name} makes the variable {var!r}, "
                                        f"which {problem}")
                        continue
                if isinstance(rec, SecretRecord):
                    plain = opened.get(ref.name)
                    if plain is None:
                        plain = opened[ref.name] = objects.box.open(rec.name, rec.sealed, rec.key_id)
                    if b"\x00" in plain.get(key, b""):
                        problems.append(f"{where}: key {key!r} of secret {ref.name} holds a NUL byte, which a "
                                        f"variable cannot hold (mount it as a file instead)")
        out.refs[ref_key(ref.kind, ref.name)] = snapshot(rec)
    return out, problems


def snapshot(rec: ConfigRecord | SecretRecord) -> dict:
    if isinstance(rec, ConfigRecord):
        return {"digest": rec.digest, "data": dict(rec.data)}
    return {"digest": rec.digest, "sealed": rec.sealed, "key_id": rec.key_id}


def users(workloads: Iterable[tuple[str, Workload]], kind: str, name: str) -> list[str]:
    """Names of the workloads whose template uses config/secret `name`."""
    return sorted(n for n, w in workloads if (kind, name) in volumes.used_objects(w.spec.template))


def refs_change(before: dict, after: dict) -> list[str]:
    """What changed between two snapshots, e.g. ["secret db changed"] (never what it holds)."""
    out = []
    for key in sorted(set(before) | set(after)):
        kind, _, name = key.partition("/")
        if key not in before:
            out.append(f"{kind} {name} used")
        elif key not in after:
            out.append(f"{kind} {name} no longer used")
        elif before[key].get("digest") != after[key].get("digest"):
            out.append(f"{kind} {name} changed")
    return out
