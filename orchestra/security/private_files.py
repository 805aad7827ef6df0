"""Writing secrets to disk: keys, certificates and configs are only ever readable by their owner.

Files are 0600 and the directories orchestra creates for them 0700. A file is written to a
temporary name and renamed, so a crash never leaves half a key behind.
"""
from __future__ import annotations

import os
import pathlib

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_private_dir(path: str | os.PathLike) -> pathlib.Path:
    """Create `path` (and missing parents) with mode 0700; tighten it if it already exists."""
    p = pathlib.Path(path)
    p.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    os.chmod(p, DIR_MODE)
    return p


def write_private(path: str | os.PathLike, data: bytes | str) -> pathlib.Path:
    """Atomically write `data` to `path` with mode 0600 (its directory made 0700 if orchestra creates it)."""
    p = pathlib.Path(path)
    if not p.parent.exists():
        ensure_private_dir(p.parent)
    if isinstance(data, str):
        data = data.encode()
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    # O_EXCL + explicit mode: the secret is never readable by others, not even for a moment.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    os.chmod(p, FILE_MODE)
    return p
