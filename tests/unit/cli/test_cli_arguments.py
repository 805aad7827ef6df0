"""Argument handling, address/config resolution, failure messages and command registration."""
import socket
import sys
import types

import click
import grpc
import pytest
from click.testing import CliRunner

from orchestra.cli import main as cli_main
from orchestra.cli.connection import DEFAULT_SERVER, Target, describe_rpc_error, resolve
from orchestra.cli.failure import CliError
from orchestra.cli.local import client_address, node_name


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Run the CLI in-process with a HOME of its own (no client config) and no ORCHESTRA_* env."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ORCHESTRA_SERVER", raising=False)
    monkeypatch.delenv("ORCHESTRA_CONFIG", raising=False)

    def invoke(*args):
        return CliRunner().invoke(cli_main.cli, list(args), catch_exceptions=False)
    return invoke


def test_invalid_manifest_is_reported_and_nothing_is_sent(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: web}\n"
                   "spec:\n  template: {image: local/busybox:1, resources: {cpu: abc}}\n")
    # The server address is a closed port: a connection attempt would say "cannot reach".
    res = run("--server", f"127.0.0.1:{unused_port()}", "apply", "-f", str(bad))
    assert res.exit_code == 1
    assert res.output.strip() == (f'orchestra: {bad}: document 1: spec.template.resources.cpu: "abc" is not a '
                                  f'CPU quantity (examples: 250m, 1.5, 2)')


def test_missing_manifest_file(run, tmp_path):
    res = run("apply", "-f", str(tmp_path / "nope.yaml"))
    assert res.exit_code == 1 and "nope.yaml: cannot read: No such file or directory" in res.output


def test_empty_manifest(run, tmp_path):
    (tmp_path / "empty.yaml").write_text("---\n")
    res = run("apply", "-f", str(tmp_path / "empty.yaml"))
    assert res.exit_code == 1 and "no documents found" in res.output


def test_unreachable_server(run):
    port = unused_port()
    res = run("--server", f"127.0.0.1:{port}", "get", "nodes")
    assert res.exit_code == 1
    assert res.output.strip() == (f"orchestra: cannot reach the control plane at 127.0.0.1:{port}: connection "
                                  "refused (start one with `orchestra local up`, or set --server / ORCHESTRA_SERVER)")


def test_bad_server_address(run):
    res = run("--server", "nowhere", "get", "nodes")
    assert res.exit_code == 1 and "invalid server address: 'nowhere' is not HOST:PORT" in res.output


def test_usage_errors_exit_2(run):
    assert run("get", "pods").exit_code == 2
    assert run("apply").exit_code == 2                 # a FILE or -f is required
    assert run("delete").exit_code == 1                # says what to give


def test_missing_explicit_config(run, tmp_path):
    res = run("--config", str(tmp_path / "none.conf"), "get", "nodes")
    assert res.exit_code == 1 and "no client config at" in res.output


def test_resolve_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))   # ~ of the default config path
    env = {"HOME": str(tmp_path)}
    assert resolve(None, None, env=env).address == DEFAULT_SERVER
    assert resolve(None, None, env={**env, "ORCHESTRA_SERVER": "10.0.0.1:1"}).address == "10.0.0.1:1"
    assert resolve("127.0.0.1:9", None, env={**env, "ORCHESTRA_SERVER": "10.0.0.1:1"}).address == "127.0.0.1:9"
    t = resolve(None, None, env=env)
    assert t.tls is None and "no client config" in t.config_problem


def test_rpc_error_messages():
    target = Target(address="127.0.0.1:7070")
    assert describe_rpc_error(target, grpc.StatusCode.NOT_FOUND, "workload 'x' not found") == "workload 'x' not found"
    assert describe_rpc_error(target, grpc.StatusCode.INVALID_ARGUMENT, "bad: why") == "bad: why"
    text = describe_rpc_error(target, grpc.StatusCode.UNAVAILABLE, "failed to connect; last error: Socket closed")
    assert text.startswith("cannot talk to the control plane at 127.0.0.1:7070: the TLS handshake failed")
    text = describe_rpc_error(target, grpc.StatusCode.INTERNAL, "boom")
    assert text == "the control plane at 127.0.0.1:7070 failed the call: INTERNAL: boom"


def test_cli_error_prints_one_prefixed_line(capsys):
    CliError("something broke").show()
    assert capsys.readouterr().err == "orchestra: something broke\n"


def test_commands_are_imported_only_when_used():
    group = cli_main.LazyGroup("g", lazy={"hello": ("fake_cli_owner_command", "hello")})
    assert group.list_commands(None) == ["hello"] and "fake_cli_owner_command" not in sys.modules
    with pytest.raises(ModuleNotFoundError):        # a missing module is an error, not a silent gap
        group.get_command(None, "hello")
    assert group.get_command(None, "absent") is None


def test_lazy_command_errors_inside_a_module_are_not_hidden(monkeypatch, tmp_path):
    pkg = tmp_path / "brokenpkg_cli_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "command.py").write_text("import a_dependency_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    group = cli_main.LazyGroup("g", lazy={"x": ("brokenpkg_cli_test.command", "x")})
    with pytest.raises(ModuleNotFoundError):
        group.get_command(None, "x")


def test_lazy_command_must_be_a_click_command(monkeypatch):
    mod = types.ModuleType("fake_cli_owner_command")
    mod.hello = click.Command("hello", callback=lambda: None)
    mod.helper = lambda: None
    monkeypatch.setitem(sys.modules, "fake_cli_owner_command", mod)
    group = cli_main.LazyGroup("g", lazy={"hello": ("fake_cli_owner_command", "hello"),
                                          "helper": ("fake_cli_owner_command", "helper")})
    assert group.get_command(None, "hello") is mod.hello
    with pytest.raises(TypeError):
        group.get_command(None, "helper")


def test_every_command_resolves(run):
    names = cli_main.cli.list_commands(None)
    for name in ("apply", "delete", "get", "describe", "events", "top", "logs", "exec", "cordon", "uncordon", "local",
                 "server", "cluster", "node", "image", "token", "certificate"):
        assert name in names
        assert cli_main.cli.get_command(None, name).name == name
    res = run("--help")
    assert res.exit_code == 0 and "events" in res.output and "certificate" in res.output


def test_apply_takes_files_as_arguments_and_with_f(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: web}\nspec: {replicas: -1}\n")
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: ok}\n"
                    "spec: {template: {image: local/busybox:1}}\n")
    server = ("--server", f"127.0.0.1:{unused_port()}")
    for args in ((str(bad),), ("-f", str(bad)), (str(good), "-f", str(bad))):
        res = run(*server, "apply", *args)
        assert res.exit_code == 1 and f"orchestra: {bad}: document 1: spec.replicas" in res.output, args
    res = run(*server, "apply", str(good))          # valid: it gets as far as calling the plane
    assert res.exit_code == 1 and "cannot reach the control plane" in res.output
    res = run("apply")
    assert res.exit_code == 2 and "no manifest given" in res.output
    assert run("apply", "-", "-f", "-").exit_code == 2


def test_get_arguments_are_checked_before_any_call(run):
    server = ("--server", f"127.0.0.1:{unused_port()}")
    res = run(*server, "get", "all", "web")
    assert res.exit_code == 2 and "takes no NAME" in res.output
    res = run(*server, "get", "workload", "web", "-l", "app=web")
    assert res.exit_code == 2 and "not both" in res.output
    res = run(*server, "get", "replicas", "-l", "app==web==x")
    assert res.exit_code == 2 and "--selector" in res.output
    res = run(*server, "events", "--for", "pod/web")
    assert res.exit_code == 2 and "expected workload/NAME, node/NAME, replica/NAME or pool/NAME" in res.output


@pytest.mark.parametrize("hostname,name", [("MyHost.example.com", "myhost"), ("a_b", "a-b"), ("---", "local")])
def test_local_node_name(hostname, name):
    assert node_name(hostname) == name


def test_local_client_address():
    assert client_address("0.0.0.0:7070") == "127.0.0.1:7070"
    assert client_address("127.0.0.5:1") == "127.0.0.5:1"


def test_local_status_and_down_when_nothing_runs(run, tmp_path):
    d = tmp_path / "local"
    d.mkdir()
    (d / "server.pid").write_text("999999999\n")   # no such process: a stale file
    res = run("local", "status", "--data-dir", str(d))
    assert res.exit_code == 0 and "control plane: not running" in res.output
    res = run("local", "down", "--data-dir", str(d))
    assert res.exit_code == 0 and "agent: not running" in res.output
    assert not (d / "server.pid").exists()


@pytest.mark.parametrize("what,parsed", [("web", ("web", "")), ("web/web-0", ("web", "web-0")),
                                         ("web/2", ("web", "web-2"))])
def test_logs_target(what, parsed):
    from orchestra.cli.logs import parse_target
    assert parse_target(what) == parsed


@pytest.mark.parametrize("what", ["", "/web-0", "web/", "a/b/c"])
def test_logs_target_rejects(what):
    from orchestra.cli.logs import parse_target
    with pytest.raises(CliError):
        parse_target(what)


def test_manifests_from_stdin_and_directories(tmp_path):
    from orchestra.cli.apply import load_manifests
    doc = "apiVersion: orchestra/v1\nkind: Workload\nmetadata: {{name: {}}}\nspec: {{template: {{image: busybox}}}}\n"
    d = tmp_path / "apps"
    d.mkdir()
    (d / "b.yaml").write_text(doc.format("b"))
    (d / "a.yml").write_text(doc.format("a"))
    (d / "notes.txt").write_text("not a manifest")
    runner = CliRunner()

    @click.command()
    @click.argument("files", nargs=-1)
    def show(files):
        click.echo(",".join(w.name for w in load_manifests(files)))

    res = runner.invoke(show, [str(d), "-"], input=doc.format("c"))
    assert res.exit_code == 0, res.output
    assert res.output.strip() == "a,b,c"
    res = runner.invoke(show, [str(d), "-"], input=doc.format("a"))
    assert res.exit_code == 1 and '<stdin>: metadata.name: Workload "a" is also defined in' in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(show, [str(empty)])
    assert res.exit_code == 1 and "directory holds no manifest" in res.output
