"""Run the real `orchestra server` process for a test, and a real gRPC client of it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from orchestra import transport
from orchestra.api import orchestra_pb2_grpc

LISTENING = re.compile(r"orchestra server listening on (\S+) \(data dir (.+)\)")


def server_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "orchestra.server", *args]


@dataclass
class PlaneProcess:
    proc: subprocess.Popen
    address: str
    data_dir: str
    channels: list = field(default_factory=list)

    def client(self) -> orchestra_pb2_grpc.OrchestraStub:
        ch = transport.client_channel(self.address)
        self.channels.append(ch)
        return orchestra_pb2_grpc.OrchestraStub(ch)

    def channel(self):
        ch = transport.client_channel(self.address)
        self.channels.append(ch)
        return ch

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        for ch in self.channels:
            ch.close()
        self.channels.clear()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


def start_plane(data_dir: str, *args: str, timeout: float = 30) -> PlaneProcess:
    """Start on a free port and wait for the listening line."""
    proc = subprocess.Popen(server_command("--listen", "127.0.0.1:0", "--data-dir", data_dir, *args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + timeout
    line = proc.stdout.readline()
    m = LISTENING.search(line)
    if not m:
        proc.kill()
        _, err = proc.communicate(timeout=timeout)
        raise RuntimeError(f"server did not start (rc {proc.returncode}): {line!r} {err!r}")
    assert time.monotonic() < deadline
    return PlaneProcess(proc, m.group(1), m.group(2))


def run_plane_expecting_failure(data_dir: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(server_command("--listen", "127.0.0.1:0", "--data-dir", data_dir, *args),
                          capture_output=True, text=True, timeout=timeout)
