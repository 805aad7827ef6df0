"""Fixtures of the CLI tests: `plane`, a real `orchestra server` on a random 127.0.0.1 port (the
`cluster` fixture, with real agents on real engines, is tests/integration/conftest.py's)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "cluster"))

from plane import start_plane  # noqa: E402


@pytest.fixture
def plane(tmp_path):
    p = start_plane(tmp_path)
    try:
        yield p
    finally:
        p.stop()


