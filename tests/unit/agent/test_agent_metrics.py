"""The agent's metrics endpoint: off, it costs nothing (prometheus_client is not even imported);
on, it serves what the agent's parts record, parsed with prometheus_client's own parser."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent import metrics
from agent.executor import Executor
from agent.reconciler import Remove
from agent.session import Agent, AgentConfig
from orchestra.metrics_endpoint import EndpointError
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[3]


def test_without_the_endpoint_prometheus_client_is_not_loaded():
    probe = ("import json, sys; import agent.main, agent.session, agent.executor, agent.probes, agent.usage, "
             "agent.metrics; agent.metrics.probe_result('readiness', True); agent.metrics.usage_error()\n"
             "with agent.metrics.operation('create'): pass\n"
             "print(json.dumps([m for m in sys.modules if m.startswith('prometheus_client')]))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == []


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def agent(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "_instruments", None)      # whatever a test serves is gone after it
    # An engine that is not there: every operation on it fails, which is what is counted here.
    a = Agent(AgentConfig(server="127.0.0.1:1", name="vm-1", docker_host=f"unix://{tmp_path}/no-engine.sock"))
    yield a
    a.usage.close()


def test_served_metrics_count_what_the_parts_record(agent):
    url = metrics.serve(f"127.0.0.1:{free_port()}", agent)
    assert url.endswith("/metrics")
    before = scrape(url)
    assert value(before, "orchestra_agent_connected") == 0          # no session yet
    assert value(before, "orchestra_agent_containers", state="Running") == 0
    assert ("orchestra_agent_containers", (("state", "BackOff"),)) in before
    assert value(before, "orchestra_agent_container_operation_duration_seconds_count", operation="stop") == 0

    executor = Executor(agent.runtime)
    executor.submit([Remove(replica_id="web-0", container_id="c0ffee", reason="test", grace_s=0)], {})
    assert executor.wait_idle(30)
    metrics.probe_result("readiness", True)
    metrics.probe_result("liveness", False)
    metrics.usage_error()

    after = scrape(url)
    assert value(after, "orchestra_agent_container_operations_total", operation="remove", result="failure") == 1
    assert value(after, "orchestra_agent_container_operation_duration_seconds_count", operation="remove") == 1
    assert value(after, "orchestra_agent_probe_results_total", probe="readiness", result="Success") == 1
    assert value(after, "orchestra_agent_probe_results_total", probe="liveness", result="Failure") == 1
    assert value(after, "orchestra_agent_usage_sampling_errors_total") == 1
    assert [labels for name, labels in after if name == "orchestra_agent_build_info"]


def test_an_address_in_use_is_a_clear_error(agent):
    port = free_port()
    metrics.serve(f"127.0.0.1:{port}", agent)
    with pytest.raises(EndpointError, match="already in use"):
        metrics.serve(f"127.0.0.1:{port}", agent)
    with pytest.raises(EndpointError, match="not HOST:PORT"):
        metrics.serve("9465", agent)
