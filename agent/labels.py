"""The labels the agent puts on every container it runs (docs/internals.md), and how a
container is found again from them: they are the agent's only memory across restarts.
"""
from __future__ import annotations

from orchestra.api import agent_pb2

MANAGED = "orchestra.managed"
REPLICA = "orchestra.replica"
WORKLOAD = "orchestra.workload"
NODE = "orchestra.node"
REVISION = "orchestra.revision"
INCARNATION = "orchestra.incarnation"
TEMPLATE_HASH = "orchestra.template-hash"
TENANT = "orchestra.tenant"


def container_name(replica_id: str, incarnation: int) -> str:
    return f"orchestra-{replica_id}-{incarnation}"


def for_spec(spec: agent_pb2.ContainerSpec, node: str) -> dict[str, str]:
    labels = {
        MANAGED: "true",
        REPLICA: spec.replica_id,
        WORKLOAD: spec.workload,
        NODE: node,
        REVISION: str(spec.revision),
        INCARNATION: str(spec.incarnation),
        TEMPLATE_HASH: spec.template_hash,
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
        return -1   # never equal to a real revision/incarnation: the container gets replaced
