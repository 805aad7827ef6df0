"""A plane over an in-memory SQLite store with a hand-driven clock (no background loop)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plane_fixtures import Clock  # noqa: E402

from orchestra.server.plane import Plane  # noqa: E402
from orchestra.store import SqliteStore  # noqa: E402


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def plane(clock):
    store = SqliteStore(":memory:")
    p = Plane(store, node_grace_ms=10_000, clock_ms=clock)
    yield p
    store.close()
