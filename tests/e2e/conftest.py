"""The e2e tier: a control plane on 127.0.0.1, a lab of real VMs (Vagrant/libvirt, QEMU user
networking) brought up with `orchestra cluster up`, agents bootstrapped over SSH, and the
user's CLI. The lab is destroyed at the end of the session, also when a test fails."""
from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tests.support import busybox_image  # noqa: E402
from labtools import NODES, Plane, free_port_range, require_vm_tier  # noqa: E402

from orchestra.lab.vagrant import Lab  # noqa: E402


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def plane(tmp_path_factory):
    require_vm_tier()
    p = Plane(tmp_path_factory.mktemp("e2e"))
    p.start()
    yield p
    p.stop()


@pytest.fixture(scope="session")
def lab(plane):
    """`orchestra cluster up` of NODES VMs, with local/busybox:1 loaded into each."""
    name = f"e2e-{secrets.token_hex(2)}"
    lab = Lab(name, plane.workdir / "labs" / name)
    t = time.monotonic()
    try:
        out = plane.cli_logged("cluster-up.log", "cluster", "up", "--nodes", str(NODES), "--lab", name,
                               "--ssh-port-base", str(free_port_range(NODES)),
                               "--token-file", str(plane.data_dir / "node-token"))
        print(f"\ncluster up ({NODES} nodes): {time.monotonic() - t:.0f} s\n{out[-3000:]}")
        tarball = str(plane.workdir / "busybox.tar")
        busybox_image.build(tarball)
        plane.cli("image", "load", tarball)    # through the plane and each agent's stream
        yield lab
    finally:
        res = plane.cli("cluster", "down", "--lab", name, check=False, timeout=600)
        print(f"cluster down: {res.stdout.strip()} {res.stderr.strip()[-2000:]}")
