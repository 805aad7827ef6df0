"""What a template mounts and which variables it takes from configs and secrets, in Kubernetes'
shape:

    template:
      volumes:
        - name: data                                   # no source: the replica's own volume, kept on its node
        - name: conf
          config: {name: web-config}                   # every key a file; or items: [{key: app.conf, path: x.conf}]
        - name: creds
          secret: {secretName: db}
      volumeMounts:
        - {name: data, mountPath: /var/lib/web}
        - {name: conf, mountPath: /etc/web}            # config and secret volumes are always read-only
      env:
        GREETING: hello
        DB_PASSWORD: {valueFrom: {secretKeyRef: {name: db, key: password}}}   # also configKeyRef
      envFrom:
        - configRef: {name: web-config}                # every key a variable; also secretRef, prefix

What needs only the template is checked here (names, paths, a mount path used twice, a mount
inside a read-only one); whether a referenced config, secret or key exists is checked by the
plane (orchestra.server.configs), which knows them.

A variable from a secret is never put into the container's configuration (Docker keeps that on
the node's disk): the agent writes it on a tmpfs and the container's /bin/sh sets it before the
command starts, so its name must be a shell name.
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Mapping

from orchestra.spec import names
from orchestra.spec.fields import Fields, quote

PERSISTENT = ""                 # Volume.source of the replica's own volume
CONFIG = "Config"
SECRET = "Secret"
RESERVED_PATH = names.RESERVED_PATH     # where the agent puts the variables from secrets

VOLUME_FIELDS = ("name", "config", "secret")
CONFIG_SOURCE_FIELDS = ("name", "items")
SECRET_SOURCE_FIELDS = ("secretName", "items")
ITEM_FIELDS = ("key", "path")
MOUNT_FIELDS = ("name", "mountPath", "readOnly")
VALUE_FROM_FIELDS = ("valueFrom",)
KEY_REF_FIELDS = ("configKeyRef", "secretKeyRef")
REF_FIELDS = ("name", "key")
ENV_FROM_FIELDS = ("configRef", "secretRef", "prefix")
MAX_VOLUMES = 64


@dataclass(frozen=True)
class KeyToPath:
    key: str
    path: str


@dataclass(frozen=True)
class Volume:
    name: str
    source: str = PERSISTENT      # PERSISTENT | CONFIG | SECRET
    source_name: str = ""         # the Config's or Secret's name
    items: tuple[KeyToPath, ...] = ()   # (): every key, as a file named by the key

    @property
    def persistent(self) -> bool:
        return self.source == PERSISTENT


@dataclass(frozen=True)
class VolumeMount:
    name: str
    mount_path: str
    read_only: bool = False


@dataclass(frozen=True)
class KeyRef:
    """One variable from one key of a Config or Secret."""
    kind: str                     # CONFIG | SECRET
    name: str
    key: str


@dataclass(frozen=True)
class EnvFrom:
    """Every key of a Config or Secret as a variable (prefix + key)."""
    kind: str
    name: str
    prefix: str = ""


@dataclass(frozen=True)
class Reference:
    """A use of a config or secret by a template, with the field that makes it (for errors)."""
    path: str                     # the field naming the object, e.g. spec.template.volumes[1].config.name
    kind: str
    name: str
    key: str = ""                 # "" when every key is used
    as_variable: bool = False     # the key (or every key, with prefix) becomes a variable
    prefix: str = ""
    key_path: str = ""            # the field naming the key, when another than `path`


# -- canonical form -------------------------------------------------------------------------

def volume_to_dict(v: Volume) -> dict[str, Any]:
    if v.persistent:
        return {"name": v.name}
    items = [{"key": i.key, "path": i.path} for i in v.items]
    if v.source == CONFIG:
        return {"name": v.name, "config": {"name": v.source_name, "items": items}}
    return {"name": v.name, "secret": {"secretName": v.source_name, "items": items}}


def mount_to_dict(m: VolumeMount) -> dict[str, Any]:
    return {"name": m.name, "mountPath": m.mount_path, "readOnly": m.read_only}


def key_ref_to_dict(r: KeyRef) -> dict[str, Any]:
    which = "configKeyRef" if r.kind == CONFIG else "secretKeyRef"
    return {"valueFrom": {which: {"name": r.name, "key": r.key}}}


def env_from_to_dict(e: EnvFrom) -> dict[str, Any]:
    return {"configRef" if e.kind == CONFIG else "secretRef": {"name": e.name}, "prefix": e.prefix}


# -- parsing --------------------------------------------------------------------------------

def parse_volumes(f: Fields, value: Any, path: str) -> tuple[Volume, ...] | None:
    items = f.list_of(value, path, "[{name: data}, {name: conf, config: {name: web-config}}]")
    if items is None:
        return None
    if len(items) > MAX_VOLUMES:
        f.error(path, f"lists {len(items)} volumes (at most {MAX_VOLUMES})")
        return None
    out: list[Volume] = []
    seen: dict[str, int] = {}
    ok = True
    for i, item in enumerate(items):
        p = f.item(path, i)
        d = f.mapping(item, p, VOLUME_FIELDS, what="a mapping with name (and config or secret)")
        if d is None:
            ok = False
            continue
        name = f.string(d.get("name"), f"{p}.name", names.dns_label_problem, required=True,
                        expected="a volume name, e.g. data")
        if "config" in d and "secret" in d:
            f.error(p, "has both config and secret: a volume has one source (or none, for the replica's "
                       "own volume)")
            ok = False
            continue
        volume = None
        if name is not None:
            if "config" in d:
                volume = _sourced(f, d["config"], f"{p}.config", name, CONFIG, "name", CONFIG_SOURCE_FIELDS)
            elif "secret" in d:
                volume = _sourced(f, d["secret"], f"{p}.secret", name, SECRET, "secretName", SECRET_SOURCE_FIELDS)
            else:
                volume = Volume(name=name)
            if name in seen:
                f.error(f"{p}.name", f"{quote(name)} is also the name of {path}[{seen[name]}]")
                volume = None
            else:
                seen[name] = i
        if volume is None:
            ok = False
            continue
        out.append(volume)
    return tuple(out) if ok else None


def _sourced(f: Fields, value: Any, path: str, name: str, kind: str, name_field: str,
             known: tuple[str, ...]) -> Volume | None:
    what = "config" if kind == CONFIG else "secret"
    d = f.mapping(value, path, known, what=f"a mapping with {name_field}, e.g. {{{name_field}: web}}")
    if d is None:
        return None
    source = f.string(d.get(name_field), f"{path}.{name_field}", names.dns_label_problem, required=True,
                      expected=f"the name of a {what}")
    items = _items(f, d.get("items"), f"{path}.items")
    if source is None or items is None:
        return None
    return Volume(name=name, source=kind, source_name=source, items=items)


def _items(f: Fields, value: Any, path: str) -> tuple[KeyToPath, ...] | None:
    listed = f.list_of(value, path, "[{key: app.conf, path: app.conf}]")
    if listed is None:
        return None
    out: list[KeyToPath] = []
    paths: dict[str, int] = {}
    ok = True
    for i, item in enumerate(listed):
        p = f.item(path, i)
        d = f.mapping(item, p, ITEM_FIELDS, what="a mapping with key and path")
        if d is None:
            ok = False
            continue
        key = f.string(d.get("key"), f"{p}.key", names.data_key_problem, required=True, expected="a key")
        rel = f.string(d.get("path"), f"{p}.path", _relative_path_problem, required=True,
                       expected="a relative file path, e.g. app.conf")
        if key is None or rel is None:
            ok = False
            continue
        if rel in paths:
            f.error(f"{p}.path", f"{quote(rel)} is also the path of {path}[{paths[rel]}]")
            ok = False
            continue
        paths[rel] = i
        out.append(KeyToPath(key=key, path=rel))
    return tuple(out) if ok else None


def _relative_path_problem(text: str) -> str | None:
    if text.startswith("/"):
        return "must be relative to the mount path (e.g. conf/app.conf)"
    parts = text.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "must not contain empty, '.' or '..' parts (e.g. conf/app.conf)"
    if len(text) > 1024:
        return f"is {len(text)} characters long (at most 1024)"
    return None


def _mount_path_problem(text: str) -> str | None:
    if not text.startswith("/"):
        return "must be an absolute path (e.g. /var/lib/web)"
    if text == "/":
        return "must not be / (the container's root)"
    if posixpath.normpath(text) != text or "/../" in text + "/" or text.startswith("//"):
        return f"is not a normalised path (write {quote(posixpath.normpath(text))})"
    if inside(text, RESERVED_PATH) or inside(RESERVED_PATH, text):
        return f"clashes with {RESERVED_PATH}, where orchestra puts the variables from secrets"
    if len(text) > 1024:
        return f"is {len(text)} characters long (at most 1024)"
    return None


def inside(path: str, parent: str) -> bool:
    """`path` is `parent` or below it."""
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def parse_mounts(f: Fields, value: Any, path: str, volumes: tuple[Volume, ...]) -> tuple[VolumeMount, ...] | None:
    listed = f.list_of(value, path, "[{name: data, mountPath: /var/lib/web}]")
    if listed is None:
        return None
    by_name = {v.name: v for v in volumes}
    out: list[VolumeMount] = []
    where: list[str] = []          # the field of each mount, for errors that name two of them
    ok = True
    for i, item in enumerate(listed):
        p = f.item(path, i)
        d = f.mapping(item, p, MOUNT_FIELDS, what="a mapping with name and mountPath")
        if d is None:
            ok = False
            continue
        name = f.string(d.get("name"), f"{p}.name", required=True, expected="the name of a volume in volumes")
        mount_path = f.string(d.get("mountPath"), f"{p}.mountPath", _mount_path_problem, required=True,
                              expected="an absolute path, e.g. /var/lib/web")
        read_only = f.boolean(d.get("readOnly"), f"{p}.readOnly", False)
        if name is None or mount_path is None or read_only is None:
            ok = False
            continue
        volume = by_name.get(name)
        if volume is None:
            known = ", ".join(by_name) or "none are declared in spec.template.volumes"
            f.error(f"{p}.name", f"{quote(name)} is not a volume of this template (volumes: {known})")
            ok = False
            continue
        if not volume.persistent:
            if "readOnly" in d and d["readOnly"] is False:
                f.error(f"{p}.readOnly", f"a {volume.source.lower()} volume is always mounted read-only "
                                         f"(remove readOnly: false)")
                ok = False
                continue
            read_only = True
        out.append(VolumeMount(name=name, mount_path=mount_path, read_only=read_only))
        where.append(p)
    if not ok:
        return None
    for i, m in enumerate(out):
        for j in range(i):
            other = out[j]
            if m.mount_path == other.mount_path:
                f.error(f"{where[i]}.mountPath", f"{m.mount_path} is also the mount path of {where[j]}: "
                                                 f"two volumes cannot be mounted at one path")
                ok = False
                continue
            for inner, outer, at in ((m, other, where[i]), (other, m, where[j])):
                if inside(inner.mount_path, outer.mount_path) and not by_name[outer.name].persistent:
                    f.error(f"{at}.mountPath", f"{inner.mount_path} is inside {outer.mount_path}, the read-only "
                                               f"mount of {by_name[outer.name].source.lower()} volume "
                                               f"{outer.name}: mount it elsewhere")
                    ok = False
    mounted = {m.name for m in out}
    for i, v in enumerate(volumes):
        if v.name not in mounted:
            f.error(f"spec.template.volumes[{i}]", f"volume {v.name} is not mounted: add "
                                                   f"{{name: {v.name}, mountPath: ...}} to volumeMounts, or remove it")
            ok = False
    return tuple(out) if ok else None


def parse_env_refs(f: Fields, refs: Mapping[str, Any], path: str) -> dict[str, KeyRef] | None:
    """The entries of `env` whose value is a mapping: {valueFrom: {configKeyRef|secretKeyRef: {name, key}}}."""
    out: dict[str, KeyRef] = {}
    ok = True
    for var, value in refs.items():
        p = f.key(path, var)
        d = f.mapping(value, p, VALUE_FROM_FIELDS,
                      what="a string, or {valueFrom: {secretKeyRef: {name: db, key: password}}}")
        if d is None:
            ok = False
            continue
        if "valueFrom" not in d:
            f.error(p, "needs valueFrom (e.g. {valueFrom: {secretKeyRef: {name: db, key: password}}})")
            ok = False
            continue
        src = f.mapping(d["valueFrom"], f"{p}.valueFrom", KEY_REF_FIELDS,
                        what="a mapping with configKeyRef or secretKeyRef")
        if src is None:
            ok = False
            continue
        given = [k for k in KEY_REF_FIELDS if k in src]
        if len(given) != 1:
            f.error(f"{p}.valueFrom", "needs exactly one of configKeyRef or secretKeyRef")
            ok = False
            continue
        kind = CONFIG if given[0] == "configKeyRef" else SECRET
        rp = f"{p}.valueFrom.{given[0]}"
        r = f.mapping(src[given[0]], rp, REF_FIELDS, what="a mapping with name and key")
        if r is None:
            ok = False
            continue
        name = f.string(r.get("name"), f"{rp}.name", names.dns_label_problem, required=True,
                        expected=f"the name of a {kind.lower()}")
        key = f.string(r.get("key"), f"{rp}.key", names.data_key_problem, required=True, expected="a key")
        problem = (names.shell_name_problem if kind == SECRET else names.env_name_problem)(var)
        if problem:
            f.error(p, f"variable {quote(var)} {problem}")
            ok = False
            continue
        if name is None or key is None:
            ok = False
            continue
        out[var] = KeyRef(kind=kind, name=name, key=key)
    return out if ok else None


def parse_env_from(f: Fields, value: Any, path: str) -> tuple[EnvFrom, ...] | None:
    listed = f.list_of(value, path, "[{configRef: {name: web-config}}, {secretRef: {name: db}, prefix: DB_}]")
    if listed is None:
        return None
    out: list[EnvFrom] = []
    ok = True
    for i, item in enumerate(listed):
        p = f.item(path, i)
        d = f.mapping(item, p, ENV_FROM_FIELDS, what="a mapping with configRef or secretRef")
        if d is None:
            ok = False
            continue
        given = [k for k in ("configRef", "secretRef") if k in d]
        if len(given) != 1:
            f.error(p, "needs exactly one of configRef or secretRef (e.g. {secretRef: {name: db}})")
            ok = False
            continue
        kind = CONFIG if given[0] == "configRef" else SECRET
        r = f.mapping(d[given[0]], f"{p}.{given[0]}", ("name",), what="a mapping with name")
        if r is None:
            ok = False
            continue
        name = f.string(r.get("name"), f"{p}.{given[0]}.name", names.dns_label_problem, required=True,
                        expected=f"the name of a {kind.lower()}")
        check = names.shell_name_problem if kind == SECRET else names.env_name_problem
        prefix = f.string(d.get("prefix"), f"{p}.prefix", check, expected="a variable name prefix, e.g. DB_")
        if name is None or prefix is None:
            ok = False
            continue
        out.append(EnvFrom(kind=kind, name=name, prefix=prefix))
    return tuple(out) if ok else None


# -- what a template uses -------------------------------------------------------------------

def references(template: Any) -> list[Reference]:
    """Every config and secret `template` uses, where, and which key."""
    out: list[Reference] = []
    base = "spec.template"
    for i, v in enumerate(template.volumes):
        if v.persistent:
            continue
        field = "config.name" if v.source == CONFIG else "secret.secretName"
        path = f"{base}.volumes[{i}].{field}"
        if not v.items:
            out.append(Reference(path, v.source, v.source_name))
        for j, item in enumerate(v.items):
            out.append(Reference(path, v.source, v.source_name, item.key,
                                 key_path=f"{base}.volumes[{i}].{field.split('.')[0]}.items[{j}].key"))
    for var, ref in sorted(template.env_refs.items()):
        which = "configKeyRef" if ref.kind == CONFIG else "secretKeyRef"
        at = f"{Fields.key(base + '.env', var)}.valueFrom.{which}"
        out.append(Reference(f"{at}.name", ref.kind, ref.name, ref.key, as_variable=True, key_path=f"{at}.key"))
    for i, e in enumerate(template.env_from):
        which = "configRef" if e.kind == CONFIG else "secretRef"
        out.append(Reference(f"{base}.envFrom[{i}].{which}.name", e.kind, e.name, as_variable=True,
                             prefix=e.prefix))
    return out


def used_objects(template: Any) -> set[tuple[str, str]]:
    """{(kind, name)} of the configs and secrets `template` uses."""
    return {(r.kind, r.name) for r in references(template)}


def secret_variables(template: Any) -> bool:
    """The container gets variables from secrets, so it starts through /bin/sh (agent.container_files),
    which passes on only variables with shell names: then every variable must have one."""
    return any(r.kind == SECRET for r in template.env_refs.values()) or any(e.kind == SECRET for e in template.env_from)


def check_shell_names(f: Fields, template: Any, path: str) -> bool:
    """With variables from secrets, every variable name of the template must be a shell name."""
    if not secret_variables(template):
        return True
    ok = True
    for var in sorted({*template.env, *template.env_refs}):
        problem = names.shell_name_problem(var)
        if problem:
            f.error(Fields.key(f"{path}.env", var), f"variable {quote(var)} {problem}, and this container has "
                                                    f"variables from secrets")
            ok = False
    for i, e in enumerate(template.env_from):
        if e.prefix and names.shell_name_problem(e.prefix):
            f.error(f"{path}.envFrom[{i}].prefix", f"{quote(e.prefix)} {names.shell_name_problem(e.prefix)}, and this "
                                                   f"container has variables from secrets")
            ok = False
    return ok


def persistent_volumes(template: Any) -> list[Volume]:
    return [v for v in template.volumes if v.persistent]
