"""Workload documents for the server's integration tests."""
from __future__ import annotations

import json


def workload_json(name: str, replicas: int = 1, cpu: str = "100m", memory: str = "64Mi") -> str:
    return json.dumps({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name},
                       "spec": {"replicas": replicas,
                                "template": {"image": "local/busybox:1", "command": ["sleep", "3600"],
                                             "resources": {"cpu": cpu, "memory": memory}}}})
