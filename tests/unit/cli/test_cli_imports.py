"""A read command imports only what it uses: not SSH (paramiko), the CA (cryptography), numpy,
the Docker SDK or the VM lab. Start-up time is measured in bench/cli_startup.py; this checks
the cause, which does not depend on the machine's speed."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
FORBIDDEN = ("paramiko", "numpy", "docker", "cryptography", "orchestra.lab", "orchestra.scheduler", "yaml")

# Runs the real entry point in a fresh interpreter and reports the modules loaded once it exits.
PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.__stderr__))
from orchestra.cli.main import main
main(sys.argv[1:])
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args", [("get", "nodes"), ("get", "replicas", "-l", "app=web", "-o", "json"),
                                  ("get", "all", "-o", "wide"), ("describe", "workload", "web"),
                                  ("top", "nodes"), ("events",), ("logs", "web"), ("ui",),
                                  ("exec", "web-0", "--", "true"), ("image", "list"), ("get", "secrets", "-o", "json"),
                                  ("get", "volumes"), ("describe", "secret", "db"), ("describe", "volume", "v"),
                                  ("get", "services"), ("describe", "service", "web")])
def test_read_command_imports(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(REPO))
    # A closed port: the command gets as far as its first call, with everything it needs imported.
    res = subprocess.run([sys.executable, "-c", PROBE, "--server", f"127.0.0.1:{closed_port()}", *args],
                         capture_output=True, text=True, env=env, timeout=60)
    assert res.returncode == 1 and "connection refused" in res.stderr, res.stderr
    modules = json.loads(res.stderr.strip().splitlines()[-1])
    assert "grpc" in modules                       # the probe saw the command run
    loaded = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert loaded == [], f"`orchestra {' '.join(args)}` imported {loaded}"
