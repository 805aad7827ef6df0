"""The text forms of flags, one grammar each: labels, taints, addresses, node names."""
from __future__ import annotations

import pytest

from orchestra.spec import names


def test_labels_checked_like_a_manifest_s():
    assert names.parse_labels("zone=a, disk=ssd,empty=") == {"zone": "a", "disk": "ssd", "empty": ""}
    assert names.parse_labels(["zone=a", "tier=web,disk=ssd"]) == {"zone": "a", "tier": "web", "disk": "ssd"}
    assert names.parse_labels("") == {}
    for bad, why in [("zone", "has no '='"), ("a=1,a=2", "twice"), ("-x=1", "must consist of"),
                     ("x=a b", "must be empty or consist of")]:
        with pytest.raises(ValueError, match=why):
            names.parse_labels(bad)


def test_taints_round_trip():
    assert names.parse_taint("gpu=yes:NoSchedule") == ("gpu", "yes", "NoSchedule")
    assert names.parse_taint("gpu:NoSchedule") == ("gpu", "", "NoSchedule")
    assert names.taint_text("gpu", "yes", "NoSchedule") == "gpu=yes:NoSchedule"
    assert names.taint_text("gpu", "", "NoSchedule") == "gpu:NoSchedule"
    with pytest.raises(ValueError, match="key=value:NoSchedule"):
        names.parse_taint("gpu=yes:NoExecute")


def test_addresses_and_node_names():
    assert names.address_problem("127.0.0.1:7070") is None and names.address_problem("[::1]:7070") is None
    for bad in ("nowhere", ":7070", "h:0", "h:65536", "h:x"):
        assert "is not HOST:PORT" in names.address_problem(bad)
    assert names.node_name_problem("vm-1.lab_2") is None
    for bad in ("", "-vm", "vm-", "a b", "a\n"):
        assert names.node_name_problem(bad), bad


def test_canonical_image_is_the_engine_s_form():
    from orchestra.spec.names import canonical_image
    assert canonical_image("local/app:1") == "local/app:1"
    assert canonical_image("busybox") == "busybox:latest"
    assert canonical_image("docker.io/library/busybox:1") == "busybox:1"
    assert canonical_image("docker.io/team/app") == "team/app:latest"
    assert canonical_image("registry:5000/app") == "registry:5000/app:latest"
    assert canonical_image("registry:5000/app:2") == "registry:5000/app:2"
    digest = "sha256:" + "a" * 64
    assert canonical_image(f"app:1@{digest}") == f"app@{digest}"
    assert canonical_image(digest) == digest
