"""The local box: built by vagrant/build-box.sh, cached under ~/.cache/orchestra/boxes by a
hash of the builder's inputs, so a second build on the same machine costs nothing."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import vagrant_dir


def build_box(log=print) -> tuple[Path, float]:
    """Returns (box directory, seconds spent)."""
    script = vagrant_dir() / "build-box.sh"
    t = time.monotonic()
    proc = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise LabError(f"building the box failed ({script}):\n{err.strip()[-4000:]}")
    for line in err.splitlines():
        if line.startswith("build-box:"):
            log(line)
    lines = out.strip().splitlines()
    if not lines or not (Path(lines[-1]) / "complete").exists():
        raise LabError(f"{script} did not report a finished box:\n{out}\n{err[-2000:]}")
    return Path(lines[-1]), time.monotonic() - t
