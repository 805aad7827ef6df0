"""The STREAM binary of `bench isolation`: stream.c compiled here as a static executable (no
shared libraries, so it runs unchanged on the host, in a VM and in the bench image), cached by
the hash of its source. Not compiled in guests: it travels there over SSH."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from orchestra.lab.ssh import LabError
from orchestra.lab.wheelhouse import CACHE

SOURCE = Path(__file__).with_name("stream.c")


def binary() -> Path:
    key = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    out = CACHE / "bench" / f"stream-{key}"
    if out.exists():
        return out
    if shutil.which("gcc") is None:
        raise LabError("gcc is missing: the STREAM binary is compiled here (apt-get install gcc libc6-dev, "
                       "or run scripts/install-vm-deps.sh)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    # -O2 for the host's baseline x86-64 (no -march=native): the VM's CPU model is qemu64.
    res = subprocess.run(["gcc", "-O2", "-static", "-o", str(tmp), str(SOURCE)], capture_output=True, text=True)
    if res.returncode != 0:
        raise LabError(f"compiling {SOURCE} failed (is libc6-dev installed?):\n{res.stderr.strip()[-2000:]}")
    tmp.rename(out)
    return out
