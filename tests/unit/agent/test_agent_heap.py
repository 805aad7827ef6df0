"""agent.heap, in processes of their own (the arena limit is for the whole process)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
                       env={**base, "PYTHONPATH": str(ROOT), **env})
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_glibc_takes_the_arena_limit_and_trims():
    # glibc: this machine's C library and the lab guests' (Debian).
    assert run("from agent import heap; print(heap.limit_arenas()); heap.trim()") == "True"


def test_a_malloc_arena_max_that_is_set_wins():
    assert run("from agent import heap; print(heap.limit_arenas())", MALLOC_ARENA_MAX="4") == "False"
