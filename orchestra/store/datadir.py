"""The server's data directory: created if missing, checked writable, locked against a
second server, and holding the SQLite state database.

Layout: DATA/lock (exclusive flock, holds the owner's PID), DATA/state.db (+ -wal, -shm).
"""
from __future__ import annotations

import errno
import fcntl
import os

from orchestra.store.errors import StoreOpenError
from orchestra.store.sqlite import SqliteStore

LOCK_FILE = "lock"
DB_FILE = "state.db"


class DataDir:
    def __init__(self, path: str):
        self.path = os.path.abspath(os.path.expanduser(path))
        self._lock_fd: int | None = None

    @property
    def db_path(self) -> str:
        return os.path.join(self.path, DB_FILE)

    def prepare(self) -> None:
        """Create, check writable, lock. Raises StoreOpenError with a one-line message."""
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as exc:
            raise StoreOpenError(f"data dir {self.path} cannot be created: {exc.strerror or exc}") from exc
        if not os.path.isdir(self.path):
            raise StoreOpenError(f"data dir {self.path} is not a directory")
        self._check_writable()
        self._lock()

    def _check_writable(self) -> None:
        # os.access is not enough (root ignores modes, read-only mounts): really write a byte.
        probe = os.path.join(self.path, f".write-probe-{os.getpid()}")
        try:
            with open(probe, "wb") as f:
                f.write(b"x")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise StoreOpenError(f"disk full: cannot write in data dir {self.path}") from exc
            raise StoreOpenError(f"data dir {self.path} is not writable: {exc.strerror or exc}") from exc
        finally:
            try:
                os.unlink(probe)
            except OSError:
                pass

    def _lock(self) -> None:
        lock_path = os.path.join(self.path, LOCK_FILE)
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreOpenError(f"cannot open lock file {lock_path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            other = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreOpenError(f"data dir {self.path} is in use by another orchestra server (pid {other}); "
                                 f"stop it or choose another --data-dir") from exc
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            os.close(fd)
            if exc.errno == errno.ENOSPC:
                raise StoreOpenError(f"disk full: cannot write lock file {lock_path}") from exc
            raise StoreOpenError(f"cannot write lock file {lock_path}: {exc.strerror or exc}") from exc
        self._lock_fd = fd

    def open_store(self) -> SqliteStore:
        return SqliteStore(self.db_path)

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)   # closing drops the flock
            self._lock_fd = None


def open_data_dir(path: str) -> tuple[DataDir, SqliteStore]:
    """Prepare and lock `path`, open its store. On error nothing stays locked."""
    d = DataDir(path)
    d.prepare()
    try:
        return d, d.open_store()
    except BaseException:
        d.release()
        raise
