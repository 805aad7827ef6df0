"""What the lab asks the control plane: the node list, and waiting for a node's status."""
from __future__ import annotations

import time

import grpc

from orchestra import transport
from orchestra.api import orchestra_pb2, orchestra_pb2_grpc
from orchestra.lab.ssh import LabError


def list_nodes(plane: str, tls: transport.ClientTLS | None = None, timeout: float = 10.0) -> list:
    with transport.client_channel(plane, tls) as channel:
        stub = orchestra_pb2_grpc.OrchestraStub(channel)
        return list(stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=timeout).nodes)


def wait_status(plane: str, name: str, status: str, timeout: float,
                tls: transport.ClientTLS | None = None) -> object:
    """Polls ListNodes until node `name` has `status`; returns the node."""
    deadline = time.monotonic() + timeout
    last = "not registered"
    while True:
        try:
            nodes = {n.name: n for n in list_nodes(plane, tls)}
            node = nodes.get(name)
            if node is not None:
                if node.status == status:
                    return node
                last = f"status {node.status or '?'}"
        except grpc.RpcError as e:
            last = f"plane at {plane} unreachable: {e.code().name} {e.details()}"
        if time.monotonic() > deadline:
            raise LabError(f"node {name} did not become {status} within {timeout:.0f} s ({last})")
        time.sleep(1.0)


def wait_ready(plane: str, name: str, timeout: float, tls: transport.ClientTLS | None = None) -> object:
    return wait_status(plane, name, "Ready", timeout, tls)
