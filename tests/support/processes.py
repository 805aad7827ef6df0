"""Ending the processes a test started, by PID: SIGTERM, then SIGKILL when it does not go in time."""
from __future__ import annotations

import signal
import subprocess


def stop(popen: subprocess.Popen | None, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int | None:
    """Ask the process to end (`sig`), kill it if it is still there after `timeout`; its exit code."""
    if popen is None:
        return None
    if popen.poll() is None:
        popen.send_signal(sig)
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(10)
    return popen.returncode
