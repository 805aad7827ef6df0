"""`orchestra bench isolation --short` on real VMs: every cell of the table has a figure (the
host, a VM booted from the lab's box, a container in it, a container on a real dockerd here),
and the table names the accelerator. It needs no plane and no lab, and runs before the lab's
VMs exist (files run in name order), so that they do not take its CPU."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from labtools import ROOT, require_vm_tier

sys.path.insert(0, str(ROOT / "tests" / "integration"))

from engines import start_engine  # noqa: E402

from orchestra.bench.families import METRICS  # noqa: E402

NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


@pytest.fixture
def engine():
    require_vm_tier()
    e = start_engine("bench-host")
    yield e
    e.stop()


@pytest.mark.timeout(1800)   # on a fresh machine this is where the box gets built (about 3 min)
def test_short_run_fills_every_cell_and_names_the_accelerator(engine, tmp_path):
    res = subprocess.run([sys.executable, "-m", "orchestra.cli.main", "bench", "isolation", "--short",
                          "--docker-host", engine.host, "--workdir", str(tmp_path / "host")],
                         capture_output=True, text=True, timeout=1700, cwd=ROOT)
    (tmp_path / "bench.log").write_text(res.stderr)
    (tmp_path / "table.txt").write_text(res.stdout)
    print(res.stdout)
    assert res.returncode == 0, res.stderr[-4000:]
    table = res.stdout
    accel = "KVM" if "accelerator: KVM" in table else "TCG"
    if accel == "TCG":
        assert "TCG overstates every VM cost" in table
    else:
        assert "accelerator: KVM (hardware virtualization)" in table
    for m in METRICS:
        row = next((line for line in table.splitlines() if m.label in line), None)
        assert row is not None, f"no row for {m.label}:\n{table}"
        family, label, unit, *cells = re.split(r"\s{2,}", row.strip())
        assert (family, label, unit) == (m.family, m.label, m.unit) and len(cells) == 4, row
        for cell in cells:        # "median (ratio to the host)"
            got = re.fullmatch(rf"({NUMBER}) \(({NUMBER})x\)", cell)
            assert got, f"{m.label}: {cell!r} is not a figure"
            assert float(got[1].replace(",", "")) > 0 and float(got[2].replace(",", "")) > 0, row
    assert "missing" not in table
    # The figures are the product's, not the test's: the VM's creation time is its boot.
    assert "VM boot" in table
    assert Path(tmp_path / "host").is_dir()
