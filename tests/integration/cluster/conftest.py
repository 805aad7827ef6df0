"""The `cluster` fixture: a real control plane plus real agents on real engines.

    def test_x(cluster, engines):
        cluster.start_server()
        for name, engine in zip(["n1", "n2"], engines(2)):
            cluster.start_agent(name, engine)
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Cluster  # noqa: E402


@pytest.fixture
def cluster(tmp_path, request, engines):
    # Depends on `engines` so that agents stop before their engines do.
    c = Cluster(workdir=tmp_path, engine_factory=engines)
    try:
        yield c
    finally:
        c.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(c.logs())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


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
