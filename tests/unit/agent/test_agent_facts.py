"""agent.facts: hypervisor detection and os-release parsing from real machines' outputs."""
from __future__ import annotations

from agent import facts
from agent.facts import hypervisor_from, os_from_release

DEBIAN_12 = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
'''
CPU_VM = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr hypervisor lahf_lm\n"
CPU_METAL = "processor\t: 0\nflags\t\t: fpu vme de pse tsc msr lahf_lm\n"


def test_systemd_detect_virt_wins():
    assert hypervisor_from("kvm\n", dmi_vendor="QEMU", cpuinfo=CPU_VM) == "kvm"
    assert hypervisor_from("qemu\n") == "qemu"
    # It says "none" on bare metal: trusted even when other hints are odd.
    assert hypervisor_from("none\n", cpuinfo=CPU_VM) == ""


def test_sys_hypervisor_type():
    assert hypervisor_from(None, sys_hypervisor="xen\n") == "xen"


def test_dmi_vendor_and_product():
    assert hypervisor_from(None, dmi_vendor="QEMU\n",
                           dmi_product="Standard PC (Q35 + ICH9, 2009)\n") == "qemu"
    assert hypervisor_from(None, dmi_vendor="Red Hat\n", dmi_product="KVM\n") == "kvm"
    assert hypervisor_from(None, dmi_vendor="QEMU", dmi_product="KVM") == "kvm"
    assert hypervisor_from(None, dmi_vendor="VMware, Inc.", dmi_product="VMware7,1") == "vmware"
    assert hypervisor_from(None, dmi_vendor="innotek GmbH", dmi_product="VirtualBox") == "oracle"
    assert hypervisor_from(None, dmi_vendor="Dell Inc.", dmi_product="PowerEdge R640",
                           cpuinfo=CPU_METAL) == ""


def test_cpuinfo_flag_last():
    assert hypervisor_from(None, cpuinfo=CPU_VM) == "unknown"
    assert hypervisor_from(None, cpuinfo=CPU_METAL) == ""
    assert hypervisor_from() == ""


def test_os_release():
    assert os_from_release(DEBIAN_12) == "Debian GNU/Linux 12 (bookworm)"
    assert os_from_release('NAME=Alpine\nVERSION_ID=3.19\n') == "Alpine 3.19"
    assert os_from_release("") == ""


def test_gather_reads_this_machine():
    f = facts.gather("20.10.24")
    assert f.cpus >= 1 and f.memory_bytes > 0
    assert f.hostname and f.kernel and f.architecture
    assert f.docker_version == "20.10.24"


def test_capacity_defaults_to_the_machine():
    assert facts.capacity(500, 2**30).cpu_millis == 500
    c = facts.capacity(None, None)
    assert c.cpu_millis == facts.machine_cpus() * 1000 and c.memory_bytes > 0
