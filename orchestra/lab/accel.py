"""Whether KVM can run our guests. /dev/kvm is not enough: a nested, paravirtual KVM
(kvm_pvm) exposes it but cannot run stock Debian kernels, and without vmx/svm in the CPU
flags there is no hardware virtualization to use. Then QEMU's software emulation (TCG)
is used; the Vagrantfile applies the same rule (ORCHESTRA_ACCEL overrides both)."""
from __future__ import annotations

import os
import re


def kvm_usable(dev: str = "/dev/kvm", cpuinfo: str = "/proc/cpuinfo",
               modules: str = "/sys/module") -> bool:
    forced = os.environ.get("ORCHESTRA_ACCEL", "auto")
    if forced in ("kvm", "tcg"):
        return forced == "kvm"
    if not os.access(dev, os.R_OK | os.W_OK):
        return False
    if os.path.exists(os.path.join(modules, "kvm_pvm")):
        return False
    try:
        with open(cpuinfo) as f:
            return re.search(r"\b(vmx|svm)\b", f.read()) is not None
    except OSError:
        return False
