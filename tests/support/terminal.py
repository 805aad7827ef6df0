"""A real pseudo-terminal for tests of interactive commands (`orchestra exec -it`): the test
holds the master side, the command runs on the slave side as its controlling terminal, so
that raw mode, echo and SIGWINCH on a resize behave as in a user's terminal."""
from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time


class Terminal:
    def __init__(self, rows: int, cols: int):
        self.master, self.slave = pty.openpty()
        self.resize(rows, cols)
        self.seen = b""

    def spawn(self, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        """Run `argv` in a session of its own with this terminal as its controlling terminal."""
        def controlling_terminal():      # the kernel then sends it SIGWINCH when the size changes
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        return subprocess.Popen(argv, stdin=self.slave, stdout=self.slave, stderr=self.slave, env=env,
                                start_new_session=True, preexec_fn=controlling_terminal)

    def attributes(self) -> list:
        return termios.tcgetattr(self.slave)

    def resize(self, rows: int, cols: int) -> None:
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def read_until(self, wanted: bytes, timeout: float = 60) -> bytes:
        """Everything up to and including `wanted` (read since the last call)."""
        deadline = time.monotonic() + timeout
        while wanted not in self.seen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {wanted!r} on the terminal within {timeout:.0f}s; it shows {self.seen[-500:]!r}")
            if select.select([self.master], [], [], left)[0]:
                try:
                    data = os.read(self.master, 4096)
                except OSError:          # the other side closed
                    data = b""
                if not data:
                    raise AssertionError(f"the terminal closed before {wanted!r}; it showed {self.seen[-500:]!r}")
                self.seen += data
        at = self.seen.index(wanted) + len(wanted)
        out, self.seen = self.seen[:at], self.seen[at:]
        return out

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
