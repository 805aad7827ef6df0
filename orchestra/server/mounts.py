"""What a replica's container mounts and reads, filled into its ContainerSpec by the publisher:
its own volumes (by the Docker volume names it claimed), the files of its config and secret
volumes, and the variables from configs (plain env) and from secrets (secret_env: the agent sets
them from a tmpfs, never through the container's stored config).

Contents come from the replica's revision's snapshot (orchestra.server.configs), so a replica
keeps what its revision was made with; secrets are opened here, for the one node that runs it.

Variables, as in Kubernetes: envFrom first, then env entries, which win.
"""
from __future__ import annotations

from orchestra.api import agent_pb2
from orchestra.security.secret_box import SecretBox, SecretUnreadable
from orchestra.server.configs import ref_key
from orchestra.spec import volumes
from orchestra.spec.model import Template


class ContentError(Exception):
    """A container's content cannot be built (a sealed secret that does not open, a missing claim);
    str() says which, never a value."""


def fill(spec: agent_pb2.ContainerSpec, template: Template, refs: dict, box: SecretBox,
         claimed: dict[str, str]) -> None:
    """`claimed`: template volume name -> the Docker volume the replica holds for it."""
    opened: dict[str, dict[str, bytes]] = {}

    def data_of(kind: str, name: str) -> dict[str, bytes]:
        key = ref_key(kind, name)
        if key not in opened:
            snap = refs.get(key)
            if snap is None:
                raise ContentError(f"{spec.replica_id}: its revision has no snapshot of {kind.lower()} {name}")
            if kind == volumes.CONFIG:
                opened[key] = {k: v.encode() for k, v in snap.get("data", {}).items()}
            else:
                try:
                    opened[key] = box.open(name, snap.get("sealed", ""), snap.get("key_id", ""))
                except SecretUnreadable as exc:
                    raise ContentError(f"{spec.replica_id}: {exc}") from exc
        return opened[key]

    by_name = {v.name: v for v in template.volumes}
    for m in template.volume_mounts:
        v = by_name[m.name]
        if v.persistent:
            if v.name not in claimed:
                raise ContentError(f"{spec.replica_id}: volume {v.name} has no claim on a node")
            spec.volume_mounts.add(name=v.name, volume=claimed[v.name], mount_path=m.mount_path,
                                   read_only=m.read_only)
            continue
        data = data_of(v.source, v.source_name)
        fm = spec.file_mounts.add(name=v.name, mount_path=m.mount_path, secret=v.source == volumes.SECRET)
        for item in v.items or [volumes.KeyToPath(k, k) for k in sorted(data)]:
            fm.files.add(path=item.path, content=data[item.key])

    variables: dict[str, tuple[bytes, bool]] = {}
    for e in template.env_from:
        for k, value in sorted(data_of(e.kind, e.name).items()):
            variables[e.prefix + k] = (value, e.kind == volumes.SECRET)
    for var, ref in sorted(template.env_refs.items()):
        variables[var] = (data_of(ref.kind, ref.name)[ref.key], ref.kind == volumes.SECRET)
    for var, (value, secret) in variables.items():
        if var in template.env:
            continue                       # a plain env entry wins over envFrom
        if secret:
            spec.secret_env[var] = value
        else:
            spec.env[var] = value.decode()
