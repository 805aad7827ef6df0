"""The Config and Secret kinds: named entries a workload template mounts as files or reads as
environment variables (orchestra.spec.volumes), Kubernetes' ConfigMap and Secret in shape.

    apiVersion: orchestra/v1
    kind: Config
    metadata: {name: web-config}
    data:
      app.conf: |
        listen 8080

    kind: Secret
    metadata: {name: db}
    stringData: {password: s3cret}        # text; or data: {password: czNjcmV0} (base64), as Kubernetes

Keys name files, so they follow Kubernetes' rule (letters, digits, '-', '_', '.'). A Config holds
text; a Secret holds bytes, canonically base64 under `data`. The entries of one object are at
most MAX_DATA_BYTES: they travel in the desired set of every node that uses them and are kept
in every revision that uses them.

Nothing here ever puts a secret's value into an error, a repr or a log line: an error about a
value names its key and what is wrong, never the value.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

from orchestra.spec import names
from orchestra.spec.fields import Fields, describe, quote
from orchestra.spec.model import API_VERSION

KIND_CONFIG = "Config"
KIND_SECRET = "Secret"
MAX_DATA_BYTES = 256 * 1024
CONFIG_FIELDS = ("apiVersion", "kind", "metadata", "data")
SECRET_FIELDS = ("apiVersion", "kind", "metadata", "data", "stringData")
_HOME = {"name": "metadata", "labels": "metadata"}


@dataclass(frozen=True)
class Config:
    KIND: ClassVar[str] = KIND_CONFIG
    name: str
    data: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"apiVersion": API_VERSION, "kind": KIND_CONFIG,
                "metadata": {"name": self.name, "labels": dict(self.labels)}, "data": dict(self.data)}

    def sizes(self) -> dict[str, int]:
        return {k: len(v.encode()) for k, v in self.data.items()}


@dataclass(frozen=True)
class Secret:
    KIND: ClassVar[str] = KIND_SECRET
    name: str
    data: Mapping[str, bytes] = field(repr=False)
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: every value base64 under `data` (what the CLI sends over mutual TLS)."""
        return {"apiVersion": API_VERSION, "kind": KIND_SECRET,
                "metadata": {"name": self.name, "labels": dict(self.labels)},
                "data": {k: base64.b64encode(v).decode("ascii") for k, v in self.data.items()}}

    def sizes(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.data.items()}

    def __repr__(self) -> str:     # keys and sizes only, also in tracebacks
        return f"Secret(name={self.name!r}, sizes={self.sizes()!r})"


def _keys_of(f: Fields, value: Any, path: str) -> dict[str, Any] | None:
    """A mapping whose keys are data keys; its values are checked by the caller."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        f.wrong_type(path, "a mapping of keys to values, e.g. {app.conf: ...}", value)
        return None
    out, ok = {}, True
    for k, v in value.items():
        if not isinstance(k, str):
            f.error(path, f"keys must be strings, got {describe(k)}")
            ok = False
            continue
        problem = names.data_key_problem(k) if k else "must not be empty"
        if problem:
            f.error(f.key(path, k), f"key {quote(k)} {problem}" if k else f"key {problem}")
            ok = False
            continue
        out[k] = v
    return out if ok else None


def _size_ok(f: Fields, total: int, path: str) -> bool:
    if total > MAX_DATA_BYTES:
        f.error(path, f"holds {total} bytes (at most {MAX_DATA_BYTES // 1024} KiB: it travels to every node "
                      f"that uses it and is kept with every revision)")
        return False
    return True


def parse_config(f: Fields, top: Mapping[str, Any]) -> Config | None:
    name, labels = f.metadata(top, _HOME, names.dns_label_problem, "web-config")
    entries = _keys_of(f, top.get("data"), "data")
    data: dict[str, str] = {}
    if entries is not None:
        for k, v in entries.items():
            p = f.key("data", k)
            if not isinstance(v, str):
                f.wrong_type(p, "a string (the entry's text)", v)
            elif "\x00" in v:
                f.error(p, "must not contain NUL characters (a Config holds text)")
            else:
                data[k] = v
    if f.errors or name is None or labels is None or entries is None:
        return None
    if not _size_ok(f, sum(len(v.encode()) for v in data.values()), "data"):
        return None
    return Config(name=name, data=data, labels=labels)


def parse_secret(f: Fields, top: Mapping[str, Any]) -> Secret | None:
    name, labels = f.metadata(top, _HOME, names.dns_label_problem, "web-config")
    encoded = _keys_of(f, top.get("data"), "data")
    plain = _keys_of(f, top.get("stringData"), "stringData")
    data: dict[str, bytes] = {}
    for k, v in (encoded or {}).items():
        p = f.key("data", k)
        if not isinstance(v, str):
            f.error(p, f"expected a base64 string, got {_kind_only(v)}")
            continue
        try:
            data[k] = base64.b64decode("".join(v.split()), validate=True)
        except (binascii.Error, ValueError):
            f.error(p, "is not valid base64 (give plain text under stringData instead)")
    for k, v in (plain or {}).items():
        p = f.key("stringData", k)
        if not isinstance(v, str):
            # Never the value itself, not even as a hint: it is a secret.
            f.error(p, f"expected a string, got {_kind_only(v)} (quote the value)")
        elif k in (encoded or {}):
            f.error(p, f"key {quote(k)} is also in data: give each key once")
        else:
            data[k] = v.encode()
    if f.errors or name is None or labels is None or encoded is None or plain is None:
        return None
    if not _size_ok(f, sum(len(v) for v in data.values()), "data"):
        return None
    return Secret(name=name, data=data, labels=labels)


def _kind_only(value: Any) -> str:
    """What a value is, without showing it (describe() quotes strings and numbers)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"
