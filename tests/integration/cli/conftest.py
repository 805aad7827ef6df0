"""Fixtures of the CLI tests: `plane`, a real `orchestra server` on a random 127.0.0.1 port, and
`cluster`, a plane with real agents on real dockerd engines (tests/integration/cluster/harness.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "cluster"))

from harness import Cluster  # noqa: E402
from plane import start_plane  # noqa: E402


@pytest.fixture
def plane(tmp_path):
    p = start_plane(tmp_path)
    try:
        yield p
    finally:
        p.stop()


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
