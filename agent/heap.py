"""The agent process's C heap (glibc's malloc): fewer arenas, and freed pages handed back.

grpc's C core, protobuf and the interpreter allocate through malloc. glibc gives a thread that
finds the heap's lock taken an arena of its own (up to 8 per core), and hands freed memory back to
the system only from the top of a heap: what the start-up (imports, the first session) freed in
the middle stays resident. For a process that is idle most of the time both only cost memory:

- `limit_arenas()`, at the start of the real process, before its threads: at most 2 arenas
  (mallopt M_ARENA_MAX, as the environment variable MALLOC_ARENA_MAX, which is read only when a
  process starts; a MALLOC_ARENA_MAX that is set wins).
- `trim()`, before each usage sample: malloc_trim(0) returns the free pages inside the heap
  (well under a millisecond).

With 10 containers (bench/agent_memory.py) the two save about 1.4 MiB resident. On a C library
other than glibc (musl) both do nothing.
"""
from __future__ import annotations

import ctypes
import os

M_ARENA_MAX = -8      # glibc's malloc.h
ARENAS = 2

_libc = None


def _glibc():
    global _libc
    if _libc is None:
        try:
            libc = ctypes.CDLL(None)
            _libc = libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else False
        except OSError:
            _libc = False
    return _libc or None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """True when glibc took the limit."""
    libc = _glibc()
    if libc is None or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def trim() -> None:
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
