"""Installs wheels into a pip-less virtualenv with PyPA's `installer`: on this machine to build
the box's agent layer (into a staging root), and inside guests, where `orchestra node bootstrap`
runs this file with installer's own wheel on PYTHONPATH. Standard library and installer only.

Why not pip: under QEMU software emulation a guest needs minutes for pip (ensurepip alone took
over six on a busy 2-core host) but seconds to unpack wheels. installer writes a wheel's files,
its scripts and RECORD; it never removes anything, so an upgrade first removes the previous
version of the distribution by its RECORD.

    python3 venvinstall.py VENV WHEEL... [--force WHEEL...]
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


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not os.path.exists(os.path.join(argv[0], "bin", "python")):
        print("usage: venvinstall.py VENV WHEEL... [--force WHEEL...]  (VENV made by python3 -m venv)",
              file=sys.stderr)
        return 2
    venv, force = argv[0], False
    for arg in argv[1:]:
        if arg == "--force":        # reinstall the wheels that follow even if present
            force = True
            continue
        done = install(venv, arg, force=force)
        print(("installed " if done else "unchanged ") + os.path.basename(arg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
