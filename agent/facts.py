"""What the agent tells the plane about its machine (NodeFacts) and what it offers (capacity).

The parsing functions take text and return values, so they are tested with the outputs of
real machines; `gather()` reads the machine.
"""
from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

from orchestra.api import types_pb2

# DMI sys_vendor / product_name fragments -> systemd-detect-virt's names for them.
_DMI_HYPERVISORS = (
    ("KVM", "kvm"), ("QEMU", "qemu"), ("VMware", "vmware"), ("VirtualBox", "oracle"),
    ("innotek", "oracle"), ("Xen", "xen"), ("Bochs", "bochs"), ("Parallels", "parallels"),
    ("BHYVE", "bhyve"), ("Amazon EC2", "amazon"), ("Google Compute Engine", "google"),
    ("Microsoft Corporation Virtual Machine", "microsoft"),
)


def hypervisor_from(detect_virt: str | None = None, sys_hypervisor: str | None = None,
                    dmi_vendor: str | None = None, dmi_product: str | None = None,
                    cpuinfo: str | None = None) -> str:
    """The hypervisor this machine runs under, "" on bare metal. Sources in order of trust:
    `systemd-detect-virt --vm` (None when not installed), /sys/hypervisor/type, DMI vendor and
    product, and at last the cpuinfo `hypervisor` flag ("unknown": a VM, but of what kind)."""
    if detect_virt is not None:
        v = detect_virt.strip()
        if v and v != "none":
            return v
        if v == "none":
            return ""
    if sys_hypervisor and sys_hypervisor.strip():
        return sys_hypervisor.strip().lower()
    dmi = f"{(dmi_vendor or '').strip()} {(dmi_product or '').strip()}".strip()
    # Check the product first: "QEMU" vendor with product "KVM" is a KVM guest.
    for text in ((dmi_product or "").strip(), dmi):
        for fragment, name in _DMI_HYPERVISORS:
            if text and fragment.lower() in text.lower():
                return name
    if cpuinfo:
        for line in cpuinfo.splitlines():
            if line.startswith("flags") and "hypervisor" in line.split(":", 1)[-1].split():
                return "unknown"
    return ""


def os_from_release(text: str) -> str:
    """PRETTY_NAME of /etc/os-release, else NAME VERSION_ID."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"').strip("'")
    return values.get("PRETTY_NAME") or " ".join(
        v for v in (values.get("NAME"), values.get("VERSION_ID")) if v)


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return None


def _detect_virt() -> str | None:
    exe = shutil.which("systemd-detect-virt")
    if not exe:
        return None
    try:
        # Exit status 1 with "none" means no VM; the output is what matters.
        r = subprocess.run([exe, "--vm"], capture_output=True, text=True, timeout=5)
        return r.stdout.strip() or "none"
    except (OSError, subprocess.TimeoutExpired):
        return None


def agent_version() -> str:
    try:
        return metadata.version("orchestra")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def machine_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def gather(docker_version: str = "") -> types_pb2.NodeFacts:
    return types_pb2.NodeFacts(
        hostname=socket.gethostname(),
        cpus=machine_cpus(),
        memory_bytes=psutil.virtual_memory().total,
        kernel=platform.release(),
        os=os_from_release(_read("/etc/os-release") or ""),
        docker_version=docker_version,
        hypervisor=hypervisor_from(
            _detect_virt(), _read("/sys/hypervisor/type"),
            _read("/sys/class/dmi/id/sys_vendor"), _read("/sys/class/dmi/id/product_name"),
            _read("/proc/cpuinfo")),
        agent_version=agent_version(),
        architecture=platform.machine(),
    )


def route_source(server: str) -> str:
    """The address this machine sends from to reach `server` (HOST:PORT): the one other nodes on
    the same network reach it at. "" when there is no route."""
    host = server.rpartition(":")[0].strip("[]")
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, 9, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(addr)            # UDP: picks the route and source, sends nothing
            return s.getsockname()[0]
    except OSError:
        return ""


def capacity(cpu_millis: int | None, memory_bytes: int | None) -> types_pb2.Resources:
    """What the node offers: --cpu/--memory when given, else the whole machine."""
    return types_pb2.Resources(
        cpu_millis=cpu_millis if cpu_millis is not None else machine_cpus() * 1000,
        memory_bytes=memory_bytes if memory_bytes is not None else psutil.virtual_memory().total,
    )
