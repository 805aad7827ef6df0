"""Fixtures of the security integration tests: the real `orchestra server` process (through the
server tests' plane_process helper) and real `orchestra-agent` processes."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from plane_process import plane, plane_factory  # noqa: E402,F401  (fixtures)
