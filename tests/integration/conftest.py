"""Fixtures of the integration tier: real dockerd engines, one per simulated node, each in
its own network namespace (tests/integration/engines.py), with local/busybox:1 imported.

    def test_x(engine): ...                  # one engine
    def test_y(engines):                     # several: engines(3) -> [Engine, Engine, Engine]
        a, b = engines(2)
    def test_z(cluster): ...                 # a real plane and agents (cluster/harness.py), driven by the CLI

Engines are stopped and their files, namespaces and cgroups removed when the test ends,
also when it fails.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "cluster"))

from engines import Engine, EnginePool  # noqa: E402
from harness import Cluster  # noqa: E402


@pytest.fixture
def engines():
    """Factory: `engines(n, image=True, bridge=False)` starts n engines (busybox imported unless
    image=False; Docker's bridge network inside the engine's namespace with bridge=True)."""
    pool = EnginePool()
    try:
        yield pool
    finally:
        pool.stop()


@pytest.fixture
def engine(engines) -> Engine:
    """One real engine with local/busybox:1."""
    return engines(1)[0]


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
