"""Option parsing of `orchestra server` (the process itself is tested in tests/integration/server)."""
from __future__ import annotations

import socket

import pytest

from orchestra.server.command import bind_problem

def test_bind_problem():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert "already in use" in bind_problem(f"127.0.0.1:{port}")
    assert bind_problem("127.0.0.1:0") is None
    assert "is not HOST:PORT" in bind_problem("127.0.0.1")
