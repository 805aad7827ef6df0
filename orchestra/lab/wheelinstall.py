"""Installs wheels into a virtualenv without pip; copied to and run inside guests by
`orchestra node bootstrap` (standard library only).

Why not pip: under QEMU software emulation a guest needs minutes for pip (ensurepip alone
took over six on a busy 2-core host) but seconds to unpack wheels, which is most of what
installing a wheel is: unzip into site-packages, place `*.data/` trees, write console
scripts. Upgrades remove a distribution's previous files (its RECORD) first.

    python3 wheelinstall.py VENV WHEEL... [--force WHEEL...]
"""
from __future__ import annotations

import configparser
import glob
import os
import re
import shutil
import sys
import zipfile

SCRIPT = """#!{python}
import sys
from {module} import {attr}
if __name__ == "__main__":
    sys.exit({attr}())
"""


def site_packages(venv: str) -> str:
    v = "python%d.%d" % sys.version_info[:2]
    return os.path.join(venv, "lib", v, "site-packages")


def dist_info_name(names: list[str]) -> str:
    for n in names:
        top = n.split("/", 1)[0]
        if top.endswith(".dist-info"):
            return top
    raise ValueError("not a wheel: no .dist-info directory")


def _project(dist_info: str) -> str:
    """'PyYAML-6.0.dist-info' -> 'pyyaml' (normalized, to find other versions)."""
    return re.sub(r"[-_.]+", "_", dist_info[: -len(".dist-info")].rsplit("-", 1)[0]).lower()


def remove_installed(site: str, project: str) -> None:
    for info in glob.glob(os.path.join(site, "*.dist-info")):
        if _project(os.path.basename(info)) != project:
            continue
        record = os.path.join(info, "RECORD")
        if os.path.exists(record):
            with open(record) as f:
                for line in f:
                    path = os.path.normpath(os.path.join(site, line.rsplit(",", 2)[0]))
                    if path.startswith(os.path.normpath(os.path.join(site, ".."))) and os.path.isfile(path):
                        os.unlink(path)
        shutil.rmtree(info, ignore_errors=True)


def install(venv: str, wheel: str, force: bool = False) -> bool:
    """Returns False when this exact distribution was already installed (and not forced)."""
    site = site_packages(venv)
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = dist_info_name(names)
        if not force and os.path.isdir(os.path.join(site, info)):
            return False
        remove_installed(site, _project(info))
        zf.extractall(site)
        for member in zf.infolist():   # keep executable bits (shared libraries, helpers)
            mode = member.external_attr >> 16
            if mode & 0o111:
                os.chmod(os.path.join(site, member.filename), mode & 0o7777)
    data = os.path.join(site, info[: -len(".dist-info")] + ".data")
    if os.path.isdir(data):
        for kind in os.listdir(data):
            src = os.path.join(data, kind)
            dst = {"purelib": site, "platlib": site, "scripts": os.path.join(venv, "bin")}.get(kind)
            if dst:
                shutil.copytree(src, dst, dirs_exist_ok=True)
        shutil.rmtree(data)
    write_scripts(venv, os.path.join(site, info))
    return True


def write_scripts(venv: str, info_dir: str) -> None:
    path = os.path.join(info_dir, "entry_points.txt")
    if not os.path.exists(path):
        return
    cp = configparser.ConfigParser(delimiters=("=",))
    cp.optionxform = str
    cp.read(path)
    if not cp.has_section("console_scripts"):
        return
    python = os.path.join(venv, "bin", "python")
    for name, target in cp.items("console_scripts"):
        module, _, attr = target.strip().partition(":")
        script = os.path.join(venv, "bin", name)
        with open(script, "w") as f:
            f.write(SCRIPT.format(python=python, module=module.strip(), attr=attr.strip()))
        os.chmod(script, 0o755)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not os.path.exists(os.path.join(argv[0], "bin", "python")):
        print("usage: wheelinstall.py VENV WHEEL... [--force WHEEL...]  (VENV made by python3 -m venv)", file=sys.stderr)
        return 2
    venv, force = argv[0], False
    for arg in argv[1:]:
        if arg == "--force":        # reinstall the wheels that follow even if present
            force = True
            continue
        done = install(venv, arg, force)
        print(("installed " if done else "unchanged ") + os.path.basename(arg))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
