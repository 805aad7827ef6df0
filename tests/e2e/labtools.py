"""Helpers of the e2e tier: the control plane process, free ports, waiting."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODES = int(os.environ.get("ORCHESTRA_E2E_NODES", "2"))
# A re-bootstrap over SSH restarts a node's agent; under emulation, with three VMs on two cores,
# that has taken over 10 s, and a node silent past the grace loses its replicas (as it should).
# 30 s, as Kubernetes' 40 s node grace, keeps a restart a restart.
NODE_GRACE = "30s"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_range(count: int) -> int:
    """A base such that base+1..base+count are free on 127.0.0.1 (ssh forwards)."""
    for _ in range(200):
        base = 20000 + secrets.randbelow(20000)
        try:
            socks = []
            for p in range(base + 1, base + count + 1):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range for ssh forwards")


def require_vm_tier() -> None:
    """The e2e tier needs the VM tools; their absence is a failure, never a skip."""
    missing = [t for t in ("vagrant", "virsh", "qemu-system-x86_64", "mmdebstrap", "nc.openbsd")
               if shutil.which(t) is None]
    if missing:
        pytest.fail(f"VM tier tools missing: {missing}; run scripts/install-vm-deps.sh", pytrace=False)
    res = subprocess.run(["virsh", "-c", "qemu:///system", "version"], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.fail(f"libvirtd does not answer ({res.stderr.strip()}); run scripts/install-vm-deps.sh",
                    pytrace=False)


class Plane:
    def __init__(self, workdir: Path, labnet: bool = NODES == 2):
        """labnet: labs brought up through this plane's env() link their two VMs by the lab
        network (vagrant/README.md), as the e2e tier's does for its service calls."""
        self.workdir = workdir
        self.labnet = labnet
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.data_dir = workdir / "plane"
        self.proc: subprocess.Popen | None = None
        self.labnet_port = free_port_range(2)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(ORCHESTRA_CONFIG=str(self.data_dir / "admin.conf"), ORCHESTRA_SERVER=self.address,
                   ORCHESTRA_LAB_DIR=str(self.workdir / "labs"), PYTHONUNBUFFERED="1")
        if self.labnet:
            env["ORCHESTRA_LABNET_PORT"] = str(self.labnet_port)
        return env

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "server.log", "ab")
        # Guests dial 10.0.2.100 (the guestfwd address): the serving certificate must cover it.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestra.cli.main", "server", "--listen", self.address,
             "--data-dir", str(self.data_dir), "--tls-san", "10.0.2.100", "--node-grace", NODE_GRACE],
            stdout=log, stderr=subprocess.STDOUT, env=self.env(), cwd=ROOT)
        deadline = time.monotonic() + 60
        while self.cli("get", "nodes", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"control plane did not start:\n{self.log()}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        p = self.workdir / "server.log"
        return p.read_text(errors="replace")[-6000:] if p.exists() else ""

    def cli(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
        res = subprocess.run([sys.executable, "-m", "orchestra.cli.main", *args], capture_output=True,
                             text=True, env=self.env(), timeout=timeout, cwd=ROOT)
        if check and res.returncode != 0:
            raise AssertionError(f"orchestra {' '.join(args)} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
        return res

    def cli_logged(self, log_name: str, *args: str, timeout: float = 1800) -> str:
        """Runs a long CLI command with its output in <workdir>/<log_name> (to follow it live)."""
        path = self.workdir / log_name
        with open(path, "w") as log:
            res = subprocess.run([sys.executable, "-m", "orchestra.cli.main", *args], stdout=log,
                                 stderr=subprocess.STDOUT, env=self.env(), timeout=timeout, cwd=ROOT)
        out = path.read_text(errors="replace")
        if res.returncode != 0:
            raise AssertionError(f"orchestra {' '.join(args)} exited {res.returncode}:\n{out[-6000:]}")
        return out

    def cli_json(self, *args: str):
        data = json.loads(self.cli(*args, "-o", "json").stdout)
        if isinstance(data, dict):
            for key in ("nodes", "replicas", "workloads", "items"):
                if key in data:
                    return data[key]
        return data


def wait_for(what: str, check, timeout: float = 300, every: float = 2.0):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as e:  # the last error is reported if time runs out
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                                 + (f" (last error: {last})" if last else ""))
        time.sleep(every)


