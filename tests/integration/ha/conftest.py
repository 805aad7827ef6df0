"""The `ha` fixture: several real planes on a real 3-member etcd of the test's own, with real
agents on real engines (planes.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planes import HaCluster  # noqa: E402
from tests.support.etcd import etcd_cluster3  # noqa: E402,F401  (fixture)


@pytest.fixture
def ha(tmp_path, request, engines, etcd_cluster3):
    c = HaCluster(workdir=tmp_path, engine_factory=engines, etcd=etcd_cluster3, node_grace_s=10.0)
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
