"""Fixtures of the agent's integration tests: a real AgentLink peer and real agent processes."""
from __future__ import annotations

import pytest

from link_peer import AgentProcess, LinkPeer


@pytest.fixture
def peer():
    p = LinkPeer()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def agents(tmp_path, request):
    """Factory: agents(server, name, engine, *extra, network="none") -> AgentProcess.
    Every agent is stopped at the end; their logs are printed when the test failed."""
    started: list[AgentProcess] = []

    def start(server: str, name: str, engine, *extra: str, network: str = "none"):
        a = AgentProcess(server, name, engine.host, *extra, log_dir=tmp_path, network=network)
        started.append(a)
        return a

    yield start
    for a in started:
        a.stop()
    rep = getattr(request.node, "rep_call", None)
    if rep is None or rep.failed:
        for a in started:
            print(f"--- {a.log_path.name} ---\n{a.log()}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
