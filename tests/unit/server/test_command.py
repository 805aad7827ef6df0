"""Option parsing of `orchestra server` (the process itself is tested in tests/integration/server)."""
from __future__ import annotations

import socket

import pytest

from orchestra.server.command import bind_problem, parse_duration_ms


@pytest.mark.parametrize("text, ms", [("10s", 10_000), ("500ms", 500), ("2m", 120_000), ("1.5", 1500),
                                      ("0.25s", 250)])
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "soon", "10h", "-1s", "1.2.3s"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration_ms(text)


def test_bind_problem():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert "already in use" in bind_problem(f"127.0.0.1:{port}")
    assert bind_problem("127.0.0.1:0") is None
    assert "use HOST:PORT" in bind_problem("127.0.0.1")
