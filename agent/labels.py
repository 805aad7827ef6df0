"""The labels the agent puts on every container it runs (docs/internals.md), and how a
container is found again from them: they are the agent's only memory across restarts.
"""
from __future__ import annotations

import hashlib
import json

from google.protobuf.json_format import MessageToDict

from orchestra.api import agent_pb2

MANAGED = "orchestra.managed"
REPLICA = "orchestra.replica"
WORKLOAD = "orchestra.workload"
NODE = "orchestra.node"
GENERATION = "orchestra.generation"
INCARNATION = "orchestra.incarnation"
SPEC_HASH = "orchestra.spec-hash"
TENANT = "orchestra.tenant"


def spec_hash(spec: agent_pb2.ContainerSpec) -> str:
    """sha256 of the spec in canonical JSON (sorted keys, defaults omitted), so that any change
    to what the container should be shows as a different hash, and an added proto field left at
    its default does not."""
    canonical = json.dumps(MessageToDict(spec, preserving_proto_field_name=True),
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def container_name(replica_id: str, incarnation: int) -> str:
    return f"orchestra-{replica_id}-{incarnation}"


def for_spec(spec: agent_pb2.ContainerSpec, node: str, digest: str) -> dict[str, str]:
    labels = {
        MANAGED: "true",
        REPLICA: spec.replica_id,
        WORKLOAD: spec.workload,
        NODE: node,
        GENERATION: str(spec.generation),
        INCARNATION: str(spec.incarnation),
        SPEC_HASH: digest,
    }
    if spec.tenant:
        labels[TENANT] = spec.tenant
    return labels


def selector(node: str) -> list[str]:
    """Docker label filters for the containers this node's agent manages. Several agents may
    share one engine (a local cluster on one Docker), so the node label is part of it."""
    return [f"{MANAGED}=true", f"{NODE}={node}"]


def int_label(labels: dict[str, str], key: str) -> int:
    try:
        return int(labels.get(key, "0"))
    except ValueError:
        return -1   # never equal to a real generation/incarnation: the container gets replaced
