"""The box's agent layer: orchestra and its dependencies installed on this machine into a
pip-less virtualenv that guests see at /opt/orchestra/layer, compiled to bytecode, as a small
read-only ext4 disk that every lab VM attaches beside the Debian base. It is keyed by a hash
of orchestra's sources and its dependency wheels, so a new orchestra rebuilds this layer (a
few seconds) and never the base box (minutes); nothing is compiled or pip-installed in guests.

The guest side is in the base box: vagrant/guest/etc/systemd/system/opt-orchestra-layer.mount
mounts the disk by its label, and orchestra-agent.service runs the agent from it with the
configuration QEMU hands the guest at boot (fw_cfg, see the Vagrantfile).
"""
from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestra.lab import venvinstall, wheelhouse
from orchestra.lab.ssh import LabError

MOUNT = "/opt/orchestra/layer"        # where guests mount the layer (the venv's prefix there)
LABEL = "orch-agent"                  # the ext4 label the guest's mount unit looks for
GUEST_PYTHON_BIN = "/usr/bin/python3"
# libvirt's QEMU runs as libvirt-qemu and reads disks given on its command line itself: the
# layer lives where it may (the box's kernel and initrd sit beside it for the same reason).
IMAGES = Path(os.environ.get("ORCHESTRA_LAYER_DIR", "/var/lib/libvirt/images"))
KEEP = 3                              # layers kept; older ones are removed when a new one is built
FORMAT = "1"                          # bump when the layer's layout changes


def source_files(root: Path) -> list[Path]:
    """What orchestra's wheel is made of (setuptools packs the packages' .py files)."""
    files = [root / "pyproject.toml"]
    for package in wheelhouse.PACKAGES:
        files += sorted(p for p in (root / package).rglob("*.py") if "__pycache__" not in p.parts)
    return files


def layer_key(root: Path, dependency_wheels: list[str]) -> str:
    h = hashlib.sha256(f"format {FORMAT} python {wheelhouse.GUEST_PYTHON}\n".encode())
    for path in source_files(root):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    for wheel in sorted(os.path.basename(w) for w in dependency_wheels):
        h.update(wheel.encode() + b"\n")
    return h.hexdigest()[:16]


def pyvenv_cfg(python: tuple[int, int] = wheelhouse.GUEST_PYTHON) -> str:
    """A venv is this file plus bin/python: no need to run the guest's `python3 -m venv`."""
    return (f"home = {os.path.dirname(GUEST_PYTHON_BIN)}\ninclude-system-site-packages = false\n"
            f"version = {python[0]}.{python[1]}\n")


def stage(stage_root: Path, wheels: list[str], log=print) -> Path:
    """Installs `wheels` under stage_root as the venv MOUNT; returns the venv's staged directory."""
    venv = stage_root / MOUNT.lstrip("/")
    (venv / "bin").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(pyvenv_cfg())
    os.symlink(GUEST_PYTHON_BIN, venv / "bin" / "python3")
    os.symlink("python3", venv / "bin" / "python")
    Path(venvinstall.site_packages(str(venv), wheelhouse.GUEST_PYTHON)).mkdir(parents=True)
    for wheel in wheels:
        venvinstall.install(MOUNT, wheel, root=str(stage_root), python=wheelhouse.GUEST_PYTHON)
    site = venvinstall.site_packages(str(venv), wheelhouse.GUEST_PYTHON)
    if sys.version_info[:2] == wheelhouse.GUEST_PYTHON:
        # Bytecode made here saves the guest compiling every module at its first start (many
        # seconds under emulation). The layer never changes, hence unchecked hashes: Python
        # trusts the .pyc without looking at the source's time stamp.
        ok = compileall.compile_dir(site, ddir=venvinstall.site_packages(MOUNT, wheelhouse.GUEST_PYTHON),
                                    quiet=2, workers=0,
                                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        if not ok:
            log("agent layer: some modules did not compile to bytecode (the guest compiles them at import)")
    else:
        log(f"agent layer: this machine runs Python {sys.version_info[0]}.{sys.version_info[1]}, the guest "
            f"{wheelhouse.GUEST_PYTHON[0]}.{wheelhouse.GUEST_PYTHON[1]}: no bytecode is baked in")
    return venv


def tree_bytes(path: Path) -> int:
    total = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def make_image(tree: Path, image: Path) -> None:
    """ext4 without a journal (the guest mounts it read-only), sized to the tree plus room for
    metadata; a sparse file, so its size on disk is what it holds."""
    size_mib = int(tree_bytes(tree) * 1.3 / 2**20) + 32
    tmp = image.with_name(image.name + ".tmp")
    tmp.unlink(missing_ok=True)
    proc = subprocess.run(["mkfs.ext4", "-q", "-F", "-L", LABEL, "-O", "^has_journal", "-m", "0",
                           "-E", "root_owner=0:0", "-d", str(tree), str(tmp), f"{size_mib}M"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise LabError(f"mkfs.ext4 could not make the agent layer: {proc.stderr.strip()[-2000:]}")
    tmp.chmod(0o644)
    tmp.rename(image)


def prune(keep_dir: Path) -> None:
    layers = sorted((d for d in IMAGES.glob("orchestra-agent-*") if d.is_dir() and d != keep_dir),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    for old in layers[KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def build(log=print) -> Path:
    """The agent layer for the current sources: built when missing, else reused. Returns the
    image's path."""
    root = wheelhouse.project_root()
    deps = wheelhouse.dependency_wheels(root)
    key = layer_key(root, deps)
    out = IMAGES / f"orchestra-agent-{key}"
    image = out / "agent.img"
    if image.exists():
        os.utime(out)          # recently used: kept by prune()
        return image
    if shutil.which("mkfs.ext4") is None:
        raise LabError("mkfs.ext4 is missing (apt-get install e2fsprogs, or run scripts/install-vm-deps.sh)")
    log(f"agent layer: building {key} (orchestra and {len(deps)} dependency wheels)")
    with tempfile.TemporaryDirectory(prefix="orchestra-layer-") as tmp:
        own = wheelhouse.orchestra_wheel(root, Path(tmp) / "wheel")
        venv = stage(Path(tmp) / "root", [own, *deps], log)
        out.mkdir(parents=True, exist_ok=True)
        out.chmod(0o755)
        make_image(venv, image)
    prune(out)
    return image
