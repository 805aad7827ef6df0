"""`orchestra cluster pool ...`: bad arguments are refused with what was expected, before any call
to the plane and before anything is written; a plane that does not answer is said so."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from orchestra.cli import main as cli_main
from tests.support.ports import free_port


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ORCHESTRA_LAB_DIR", str(tmp_path / "labs"))
    monkeypatch.delenv("ORCHESTRA_SERVER", raising=False)
    monkeypatch.delenv("ORCHESTRA_CONFIG", raising=False)
    server = f"127.0.0.1:{free_port()}"   # closed: any call would fail saying it cannot reach it

    def invoke(*args):
        return CliRunner().invoke(cli_main.cli, ["--server", server, "cluster", "pool", *args], catch_exceptions=False)
    return invoke


@pytest.mark.parametrize("args, message", [
    (["Blue", "--tenant", "blue"], "pool name 'Blue'"),
    (["a" * 21, "--tenant", "blue"], "at most 20 characters"),
    (["blue", "--tenant", "Blue_1"], "--tenant 'Blue_1'"),
    (["blue", "--tenant", "blue", "--min", "3", "--max", "2"], "--min 3 is above --max 2"),
    (["blue", "--tenant", "blue", "--memory", "lots"], "--memory 'lots'"),
    (["blue", "--tenant", "blue", "--memory", "256Mi"], "a VM needs at least 512Mi"),
    (["blue", "--tenant", "blue", "--idle", "soon"], "soon"),
    (["blue", "--tenant", "blue", "--labels", "orchestra.tenant=red"], "orchestra.tenant is set by the pool itself"),
])
def test_bad_create_arguments_are_refused_and_nothing_is_written(run, tmp_path, args, message):
    res = run("create", *args)
    assert res.exit_code == 1 and message in res.output, res.output
    assert not (tmp_path / "labs").exists()


def test_create_without_the_admin_certificate_says_so(run, tmp_path):
    res = run("create", "blue", "--tenant", "blue")
    assert res.exit_code == 1 and "needs the admin's client certificate" in res.output, res.output
    assert not (tmp_path / "labs").exists()


def test_list_and_delete_of_pools_that_do_not_exist(run):
    assert run("list").output.strip() == "no pools"
    res = run("delete", "green")
    assert res.exit_code == 1 and "pool green does not exist" in res.output, res.output
