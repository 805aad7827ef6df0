"""The wheelhouse that travels to guests, which have no PyPI: orchestra's own wheel, built
fresh from the work tree each time (it is small and changes often), plus wheels of its
dependencies for CPython 3.11 on x86_64, cached by the dependency list."""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from orchestra.lab.ssh import LabError

GUEST_PYTHON = (3, 11)
PACKAGES = ("orchestra", "agent")     # what orchestra's wheel holds (pyproject: packages.find)
CACHE = Path(os.environ.get("ORCHESTRA_CACHE", Path.home() / ".cache" / "orchestra"))


def project_root() -> Path:
    """The source tree orchestra runs from (the one to ship to guests)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise LabError(f"{root} has no pyproject.toml: orchestra must run from a source checkout "
                       "(pip install -e) to build a wheelhouse for guests")
    return root


def _pip(args: list[str], what: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise LabError(f"{what} failed ({' '.join(cmd)}):\n{proc.stderr.strip()[-3000:]}")


def dependency_wheels(root: Path) -> list[str]:
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    key = hashlib.sha256("\n".join(sorted(deps)).encode()).hexdigest()[:16]
    target = CACHE / "wheelhouse" / f"deps-{key}"
    if not (target / "complete").exists():
        tmp = target.with_name(target.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if sys.version_info[:2] == GUEST_PYTHON:
            _pip(["wheel", "-w", str(tmp), *deps], "building dependency wheels")
        else:
            # Another host Python: fetch binary wheels made for the guest's interpreter.
            _pip(["download", "-d", str(tmp), "--only-binary=:all:", "--python-version", "3.11",
                  "--implementation", "cp", "--platform", "manylinux2014_x86_64", *deps],
                 "downloading dependency wheels for CPython 3.11")
        (tmp / "complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return sorted(glob.glob(str(target / "*.whl")))


def orchestra_wheel(root: Path, out_dir: Path) -> str:
    """Built from a clean copy of the sources: setuptools packs whatever its build/ directory
    still holds, so a build in the work tree would ship modules deleted since."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("orchestra-*.whl"):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="orchestra-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, src / name)
        for package in PACKAGES:
            shutil.copytree(root / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
        _pip(["wheel", "--no-deps", "--no-build-isolation", "-w", str(out_dir), str(src)],
             "building the orchestra wheel")
    wheels = sorted(out_dir.glob("orchestra-*.whl"))
    if not wheels:
        raise LabError(f"pip wheel produced no orchestra wheel in {out_dir}")
    return str(wheels[0])


def build() -> list[str]:
    """All wheels a guest needs; orchestra's own comes first."""
    root = project_root()
    own = orchestra_wheel(root, CACHE / "wheelhouse" / "own")
    return [own, *dependency_wheels(root)]
