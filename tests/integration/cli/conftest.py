"""Fixtures of the CLI tests: `plane`, a real `orchestra server` on a random 127.0.0.1 port."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plane import start_plane  # noqa: E402


@pytest.fixture
def plane(tmp_path):
    p = start_plane(tmp_path)
    try:
        yield p
    finally:
        p.stop()
