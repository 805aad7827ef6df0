"""Writes a `docker save`-format tarball of a busybox image without any Docker engine:
the host runs no dockerd, and lab guests may not pull. One layer: the static busybox and
links for the applets workloads use."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time

APPLETS = ("sh", "sleep", "httpd", "cat", "echo", "ls", "ps", "wget", "env", "true")


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def build(out_path: str, tag: str = "local/busybox:1", busybox: str = "/bin/busybox") -> str:
    with open(busybox, "rb") as f:
        binary = f.read()
    layer_buf = io.BytesIO()
    with tarfile.open(fileobj=layer_buf, mode="w", format=tarfile.PAX_FORMAT) as layer:
        d = tarfile.TarInfo("bin")
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        layer.addfile(d)
        for name in ("tmp", "www"):
            t = tarfile.TarInfo(name)
            t.type, t.mode = tarfile.DIRTYPE, 0o1777
            layer.addfile(t)
        exe = tarfile.TarInfo("bin/busybox")
        exe.size, exe.mode = len(binary), 0o755
        layer.addfile(exe, io.BytesIO(binary))
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            layer.addfile(link)
    layer_bytes = layer_buf.getvalue()
    diff_id = hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]},
        "history": [{"created_by": "tests/e2e/busybox_image.py"}],
    }).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_id}.json", "RepoTags": [tag],
                            "Layers": [f"{diff_id}/layer.tar"]}]).encode()
    with tarfile.open(out_path, "w") as tar:
        _add(tar, f"{diff_id}/layer.tar", layer_bytes)
        _add(tar, f"{config_id}.json", config)
        _add(tar, "manifest.json", manifest)
    return out_path
