"""`linked_cluster`: a real control plane and real agents on engines whose network namespaces are
linked to each other (`cluster`, unlinked, is tests/integration/conftest.py's).

    def test_x(linked_cluster):
        linked_cluster.start_server()
        linked_cluster.add_nodes(2, bridge=True)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Cluster  # noqa: E402


@pytest.fixture
def linked_cluster(tmp_path, request, engines):
    """A cluster whose nodes' namespaces are linked by a bridge (tests/integration/linked_network.py)."""
    from linked_network import LinkedNetwork
    network = LinkedNetwork()
    c = Cluster(workdir=tmp_path, engine_factory=engines, network=network)
    try:
        yield c
    finally:
        c.stop()
        network.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(c.logs())
