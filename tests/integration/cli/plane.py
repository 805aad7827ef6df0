"""A real `orchestra server` process for CLI tests, and the real `orchestra` command to call it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from tests.support.ports import free_port  # noqa: F401 (the CLI tests take it from here)
from tests.support.processes import stop

START_TIMEOUT_S = 60.0


def orchestra_argv() -> list[str]:
    """The installed console script when there is one, else the same entry point via -m."""
    script = shutil.which("orchestra")
    return [script] if script else [sys.executable, "-m", "orchestra.cli.main"]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with a HOME of its own and none of the caller's ORCHESTRA_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 120, stdin: str | None = None
            ) -> subprocess.CompletedProcess:
    return subprocess.run([*orchestra_argv(), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, input=stdin)


@dataclass
class Plane:
    workdir: Path
    port: int
    proc: subprocess.Popen

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def admin_config(self) -> Path:
        return self.workdir / "plane" / "admin.conf"

    def env(self) -> dict[str, str]:
        return clean_env(self.workdir / "home", ORCHESTRA_SERVER=self.address,
                         ORCHESTRA_CONFIG=str(self.admin_config))

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return run_cli(*args, env=self.env(), timeout=timeout)

    def log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")

    def stop(self) -> None:
        stop(self.proc, timeout=20)


def start_plane(workdir: Path) -> Plane:
    (workdir / "home").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(workdir / "server.log", "ab")
    proc = subprocess.Popen([*orchestra_argv(), "server", "--listen", f"127.0.0.1:{port}", "--data-dir",
                             str(workdir / "plane")], stdout=log, stderr=subprocess.STDOUT,
                            env=clean_env(workdir / "home"), start_new_session=True)
    log.close()
    plane = Plane(workdir, port, proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"orchestra server exited {proc.returncode}:\n{plane.log()}")
        if plane.admin_config.exists() and plane.cli("get", "nodes", timeout=30).returncode == 0:
            return plane
        time.sleep(0.3)
    plane.stop()
    raise RuntimeError(f"orchestra server did not answer within {START_TIMEOUT_S:.0f}s:\n{plane.log()}")
