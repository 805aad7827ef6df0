"""Installs wheels into a pip-less virtualenv with PyPA's `installer`: on this machine to build
the box's agent layer (into a staging root), and inside guests, where `orchestra node bootstrap`
runs this file with installer's own wheel on PYTHONPATH. Standard library and installer only.

Why not pip: under QEMU software emulation a guest needs minutes for pip (ensurepip alone took
over six on a busy 2-core host) but seconds to unpack wheels. installer writes a wheel's files,
its scripts and RECORD; it never removes anything, so an upgrade first removes the previous
version of the distribution by its RECORD.

    python3 venvinstall.py VENV [--seed DIST_INFO_DIR]... WHEEL... [--force WHEEL...]

`--seed` copies a distribution that is already installed for this Python elsewhere on the
machine (the box's agent layer), instead of unpacking its wheel again.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import sys

from installer import install as _install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile


def site_packages(venv: str, python: tuple[int, int] = sys.version_info[:2]) -> str:
    return os.path.join(venv, "lib", "python%d.%d" % python, "site-packages")


def scheme(venv: str, python: tuple[int, int] = sys.version_info[:2]) -> dict[str, str]:
    site = site_packages(venv, python)
    return {"purelib": site, "platlib": site, "scripts": os.path.join(venv, "bin"),
            "data": venv, "headers": os.path.join(venv, "include")}


def project(dist_info: str) -> str:
    """'PyYAML-6.0.dist-info' -> 'pyyaml' (normalized, to find other versions)."""
    return re.sub(r"[-_.]+", "_", dist_info[: -len(".dist-info")].rsplit("-", 1)[0]).lower()


def _rooted(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/")) if root != "/" else path


def remove_installed(site: str, name: str) -> list[str]:
    """Removes every installed version of project `name` (files listed in its RECORD, which may
    reach ../../../bin for scripts, and the dist-info); returns the dist-info names removed."""
    removed = []
    top = os.path.normpath(os.path.join(site, "..", "..", ".."))   # the venv
    for info in glob.glob(os.path.join(site, "*.dist-info")):
        if project(os.path.basename(info)) != name:
            continue
        record = os.path.join(info, "RECORD")
        if os.path.exists(record):
            with open(record) as f:
                for line in f:
                    rel = line.rsplit(",", 2)[0]
                    path = os.path.normpath(os.path.join(site, rel))
                    if rel and path.startswith(top + os.sep) and os.path.isfile(path):
                        os.unlink(path)
        shutil.rmtree(info, ignore_errors=True)
        removed.append(os.path.basename(info))
    return removed


def install(venv: str, wheel: str, *, force: bool = False, root: str = "/",
            python: tuple[int, int] = sys.version_info[:2]) -> bool:
    """Installs `wheel` into `venv` as it will be seen at run time; files are written under
    `root` (a staging directory for an image, or / in place). Returns False when this exact
    distribution was already installed and not forced."""
    site = _rooted(root, site_packages(venv, python))
    with WheelFile.open(wheel) as source:
        info = source.dist_info_dir
        if not force and os.path.isdir(os.path.join(site, info)):
            return False
        remove_installed(site, project(info))
        destination = SchemeDictionaryDestination(
            scheme_dict=scheme(venv, python), interpreter=os.path.join(venv, "bin", "python"),
            script_kind="posix", destdir=None if root == "/" else root)
        _install(source, destination, {"INSTALLER": b"orchestra venvinstall\n"})
    return True


def seed(venv: str, installed: str) -> bool:
    """Copies a distribution already installed elsewhere for the same Python (`installed` is its
    dist-info directory, e.g. in the box's agent layer) into `venv`: its files inside
    site-packages as its RECORD lists them, with their bytecode. Scripts are not copied (they
    name the other venv's interpreter). Returns False when the venv has it already."""
    info = os.path.basename(installed.rstrip("/"))
    src, dst = os.path.dirname(installed.rstrip("/")), site_packages(venv)
    if os.path.isdir(os.path.join(dst, info)):
        return False
    remove_installed(dst, project(info))
    with open(os.path.join(installed, "RECORD")) as f:
        paths = [line.rsplit(",", 2)[0] for line in f if line.strip()]
    for rel in paths:
        if rel.startswith("..") or os.path.isabs(rel):
            continue
        files = [rel]
        if rel.endswith(".py"):
            d, name = os.path.split(rel)
            files.append(os.path.join(d, "__pycache__", name[:-3] + ".cpython-%d%d.pyc" % sys.version_info[:2]))
        for one in files:
            if os.path.isfile(os.path.join(src, one)):
                os.makedirs(os.path.dirname(os.path.join(dst, one)), exist_ok=True)
                shutil.copy2(os.path.join(src, one), os.path.join(dst, one))
    return True


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not os.path.exists(os.path.join(argv[0], "bin", "python")):
        print("usage: venvinstall.py VENV [--seed DIST_INFO_DIR]... WHEEL... [--force WHEEL...]  "
              "(VENV made by python3 -m venv)", file=sys.stderr)
        return 2
    venv, force, args = argv[0], False, iter(argv[1:])
    for arg in args:
        if arg == "--force":        # reinstall the wheels that follow even if present
            force = True
        elif arg == "--seed":       # copy the installed distribution that follows
            installed = next(args)
            print(("seeded " if seed(venv, installed) else "unchanged ") + os.path.basename(installed))
        else:
            done = install(venv, arg, force=force)
            print(("installed " if done else "unchanged ") + os.path.basename(arg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
