"""Fixtures of the security integration tests: the real `orchestra server` process (through the
server tests' plane_process helper) and real `orchestra-agent` processes."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from plane_process import start_plane  # noqa: E402


@pytest.fixture
def plane_factory(tmp_path):
    started = []

    def make(*args: str, data_dir: str | None = None):
        p = start_plane(data_dir or str(tmp_path / "data"), *args)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()


@pytest.fixture
def plane(plane_factory):
    return plane_factory()
