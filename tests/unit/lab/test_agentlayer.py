import os
import sys
import zipfile
from pathlib import Path

import pytest

from orchestra.lab import agentlayer


def tree(tmp_path):
    root = tmp_path / "src"
    for rel, text in {"pyproject.toml": "[project]\nname='x'\n", "orchestra/__init__.py": "",
                      "orchestra/a.py": "A = 1\n", "agent/__init__.py": "", "agent/main.py": "def main():\n    return 0\n",
                      "docs/notes.md": "not in the wheel\n"}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_the_key_follows_the_sources_and_the_dependency_wheels(tmp_path):
    root = tree(tmp_path)
    deps = ["/w/grpcio-1.0-cp311-none-any.whl"]
    key = agentlayer.layer_key(root, deps)
    assert agentlayer.layer_key(root, list(deps)) == key
    (root / "docs/notes.md").write_text("changed\n")             # not part of orchestra's wheel
    assert agentlayer.layer_key(root, deps) == key
    (root / "orchestra/a.py").write_text("A = 2\n")
    changed = agentlayer.layer_key(root, deps)
    assert changed != key
    assert agentlayer.layer_key(root, deps + ["/w/docker-7.1-py3-none-any.whl"]) != changed


def test_pyvenv_cfg_points_at_the_guests_python():
    cfg = agentlayer.pyvenv_cfg((3, 11))
    assert "home = /usr/bin\n" in cfg and "include-system-site-packages = false\n" in cfg


def wheel(path: Path, name: str, files: dict[str, str], scripts: str = "") -> str:
    info = f"{name}-1.0.dist-info"
    files = {**files, f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    if scripts:
        files[f"{info}/entry_points.txt"] = f"[console_scripts]\n{scripts}\n"
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, t in files.items():
            z.writestr(n, t)
    return str(path)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="bytecode is baked only by the guest's Python version")
def test_stage_makes_a_venv_for_the_mount_point_with_trusted_bytecode(tmp_path):
    w = wheel(tmp_path / "demo-1.0-py3-none-any.whl", "demo", {"demo/__init__.py": "X = 1\n"},
              scripts="demo-run = demo:main")
    venv = agentlayer.stage(tmp_path / "root", [w], log=lambda m: None)
    assert venv == tmp_path / "root" / agentlayer.MOUNT.lstrip("/")
    assert os.readlink(venv / "bin" / "python3") == "/usr/bin/python3"
    assert (venv / "bin" / "demo-run").read_text().startswith(f"#!{agentlayer.MOUNT}/bin/python\n")
    pyc = venv / "lib/python3.11/site-packages/demo/__pycache__/__init__.cpython-311.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01           # hash-based, unchecked: valid whatever the source's time stamp


def test_image_is_a_labelled_ext4_file(tmp_path):
    src = tmp_path / "t"
    (src / "bin").mkdir(parents=True)
    (src / "bin" / "x").write_text("y" * 1000)
    img = tmp_path / "agent.img"
    agentlayer.make_image(src, img)
    assert img.stat().st_mode & 0o777 == 0o644
    with open(img, "rb") as f:
        f.seek(1024 + 0x38)
        assert f.read(2) == b"\x53\xef"                     # the ext4 superblock magic
        f.seek(1024 + 0x78)
        assert f.read(16).rstrip(b"\0") == agentlayer.LABEL.encode()
