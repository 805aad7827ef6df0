from types import SimpleNamespace

import pytest

from orchestra.security.policy import (DEFAULT_CAPABILITIES, PIDS_LIMIT, PolicyError, SecurityPolicy, check_workload,
                                       docker_security_options, normalise_capability)
from orchestra.spec.model import Template, Workload, WorkloadSpec


def workload(**template):
    return Workload(name="web", spec=WorkloadSpec(template=Template(image="busybox", **template)))


def test_plain_workload_passes():
    assert check_workload(workload()) is None
    assert check_workload(workload(read_only_root_fs=True)) is None


def test_capabilities_from_the_allowed_list_pass():
    assert check_workload(workload(add_capabilities=("NET_RAW", "cap_sys_chroot", "CHOWN"))) is None


def test_dangerous_capability_is_refused_with_field_and_remedy():
    reason = check_workload(workload(add_capabilities=("SYS_ADMIN",)))
    assert "spec.template.addCapabilities" in reason and "SYS_ADMIN is not allowed" in reason
    assert "--allow-capability SYS_ADMIN" in reason


def test_operator_can_allow_a_capability():
    policy = SecurityPolicy.with_allowed(["cap_net_admin"])
    assert check_workload(workload(add_capabilities=("NET_ADMIN",)), policy) is None
    assert check_workload(workload(add_capabilities=("SYS_ADMIN",)), policy) is not None


@pytest.mark.parametrize("cap,match", [("ALL", "never granted"), ("NET_ADMINN", "unknown capability")])
def test_all_and_unknown_capabilities_are_refused(cap, match):
    assert match in check_workload(workload(add_capabilities=(cap,)))
    with pytest.raises(PolicyError, match=match):
        normalise_capability(cap)
    with pytest.raises(PolicyError):
        SecurityPolicy.with_allowed([cap])


def test_privileged_and_host_mounts_are_refused():
    # The model has no such fields yet; the policy refuses them whenever a model grows them.
    t = SimpleNamespace(privileged=True, host_mounts=(), add_capabilities=())
    w = SimpleNamespace(name="x", spec=SimpleNamespace(template=t))
    assert "privileged containers are not allowed" in check_workload(w)
    t = SimpleNamespace(privileged=False, host_mounts=("/etc:/host-etc",), add_capabilities=())
    w = SimpleNamespace(name="x", spec=SimpleNamespace(template=t))
    assert "hostMounts" in check_workload(w)


def test_docker_options_are_safe_by_default():
    opts = docker_security_options()
    assert opts["security_opt"] == ["no-new-privileges"]
    assert opts["pids_limit"] == PIDS_LIMIT
    assert opts["cap_drop"] == ["ALL"]
    assert opts["cap_add"] == list(DEFAULT_CAPABILITIES)
    assert opts["read_only"] is False and opts["privileged"] is False


def test_docker_options_add_requested_capabilities_once():
    opts = docker_security_options(True, ["net_raw", "NET_RAW", "CHOWN", "bogus"])
    assert opts["cap_add"] == list(DEFAULT_CAPABILITIES) + ["NET_RAW"]
    assert opts["read_only"] is True
