"""The Vagrantfile's settings, read by Vagrant itself (no VM is created)."""
from __future__ import annotations

import json
import subprocess

import pytest
from labtools import require_vm_tier

from orchestra.lab.vagrant import Lab


@pytest.fixture
def lab(tmp_path):
    require_vm_tier()
    return Lab("vf-test", tmp_path / "lab")


def vagrant(lab: Lab, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["vagrant", *args], env=lab.env(), capture_output=True, text=True, timeout=300)


def test_settings_expand_to_named_nodes_with_zones_and_forwards(lab):
    lab.write_settings({"nodes": 3, "net": "usernet", "accel": "tcg", "prefix": "vf", "zones": "a,b",
                        "labels": "tier=lab", "ssh_port_base": 3000, "plane_port": 7443})
    res = vagrant(lab, "status")
    assert res.returncode == 0, res.stderr
    assert all(f"vf-{i}" in res.stdout for i in (1, 2, 3))
    nodes = json.loads((lab.dir / ".vagrant" / "orchestra-lab.json").read_text())["nodes"]
    assert [(n["name"], n["labels"], n["ssh_port"], n["server"]) for n in nodes] == [
        ("vf-1", "zone=a,tier=lab", 3001, "10.0.2.100:7443"),
        ("vf-2", "zone=b,tier=lab", 3002, "10.0.2.100:7443"),
        ("vf-3", "zone=a,tier=lab", 3003, "10.0.2.100:7443"),
    ]


@pytest.mark.parametrize("settings,message", [
    ({"net": "bridge"}, "ORCHESTRA_NET must be private or usernet"),
    ({"nodes": 0}, "ORCHESTRA_NODES must be 1..20"),
    ({"accel": "hvf"}, "ORCHESTRA_ACCEL must be auto, kvm or tcg"),
    ({"box_dir": "/nonexistent"}, "holds no finished box"),
])
def test_bad_settings_are_refused_with_the_reason(lab, settings, message):
    lab.write_settings(settings)
    res = vagrant(lab, "status")
    assert res.returncode != 0
    assert message in res.stdout + res.stderr
