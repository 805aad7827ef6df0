"""Loads an image tarball (`docker save` format) into the Docker engine of every lab node
over SSH: labs often have no registry, and guests may not pull."""
from __future__ import annotations

import concurrent.futures
import os
import tarfile

from orchestra.lab.ssh import LabError, Node
from orchestra.lab.vagrant import Machine


def check_tarball(path: str) -> None:
    if not os.path.isfile(path):
        raise LabError(f"image file {path} does not exist")
    try:
        with tarfile.open(path) as tar:
            names = set(tar.getnames())
    except (tarfile.TarError, OSError) as e:
        raise LabError(f"{path} is not a tar archive: {e}") from None
    if "manifest.json" not in names and "index.json" not in names:
        raise LabError(f"{path} is not an image archive (no manifest.json): make it with `docker save`")


def load_into(machine: Machine, path: str) -> str:
    with Node(machine.ssh, machine.key) as node:
        res = node.run_streaming_file("docker load", path, sudo=True)
    return res.stdout.strip()


def load_everywhere(machines: list[Machine], path: str) -> dict[str, str]:
    """node name -> what `docker load` said; raises if any node failed, naming each."""
    check_tarball(path)
    if not machines:
        raise LabError("the lab has no running nodes to load the image into")
    results, errors = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(machines)) as pool:
        futures = {pool.submit(load_into, m, path): m for m in machines}
        for f, m in futures.items():
            try:
                results[m.name] = f.result()
            except LabError as e:
                errors.append(f"{m.name}: {e}")
    if errors:
        raise LabError("image load failed on " + "; ".join(errors))
    return results
