"""Container security policy: what a workload may ask for, and the safe defaults every
container gets.

Every container runs with no-new-privileges, a pids limit, and all capabilities dropped
except DEFAULT_CAPABILITIES. A workload may add capabilities from ALLOWED_EXTRA_CAPABILITIES
(the rest of Docker's own default set); anything else only when the plane was started with
`--allow-capability NAME`. Privileged containers and host mounts are never accepted.

`check_workload` is pure: the plane calls it at Apply and refuses with its reason.
`docker_security_options` is what the agent passes to the Docker API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

PIDS_LIMIT = 512
NO_NEW_PRIVILEGES = "no-new-privileges"

DEFAULT_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID", "NET_BIND_SERVICE", "KILL")
# Docker grants these by default; we grant them only on request.
ALLOWED_EXTRA_CAPABILITIES = ("AUDIT_WRITE", "FSETID", "MKNOD", "NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT")
# Every capability Linux knows (capabilities(7)); a name outside this list is a typo, refused as such.
KNOWN_CAPABILITIES = frozenset({
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
    "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE",
    "NET_BROADCAST", "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG",
    "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT", "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE",
    "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM",
})


class PolicyError(ValueError):
    """A workload or a policy setting that is refused; the message says which field and why."""


def normalise_capability(name: str) -> str:
    """'cap_net_admin' / 'NET_ADMIN' -> 'NET_ADMIN'; raises PolicyError for unknown names."""
    n = name.strip().upper()
    if n.startswith("CAP_"):
        n = n[4:]
    if n == "ALL":
        raise PolicyError("capability ALL is never granted; name each capability the container needs")
    if n not in KNOWN_CAPABILITIES:
        raise PolicyError(f"unknown capability {name!r}")
    return n


@dataclass(frozen=True)
class SecurityPolicy:
    """The plane's policy. `extra_allowed` holds capabilities the operator allowed with --allow-capability."""
    extra_allowed: frozenset[str] = frozenset()

    @staticmethod
    def with_allowed(names: Iterable[str]) -> "SecurityPolicy":
        return SecurityPolicy(frozenset(normalise_capability(n) for n in names))

    @property
    def allowed_capabilities(self) -> frozenset[str]:
        return frozenset(DEFAULT_CAPABILITIES) | frozenset(ALLOWED_EXTRA_CAPABILITIES) | self.extra_allowed


def check_workload(workload: Any, policy: SecurityPolicy = SecurityPolicy()) -> str | None:
    """None when the workload may run, else the reason it is refused (naming the field)."""
    name = getattr(workload, "name", "?")
    template = workload.spec.template
    where = f"workload {name!r}: spec.template"
    if getattr(template, "privileged", False):
        return f"{where}.privileged: privileged containers are not allowed"
    mounts = getattr(template, "host_mounts", ()) or ()
    if mounts:
        return f"{where}.hostMounts: mounting host paths is not allowed ({', '.join(map(str, mounts))})"
    allowed = policy.allowed_capabilities
    for cap in template.add_capabilities:
        try:
            n = normalise_capability(cap)
        except PolicyError as e:
            return f"{where}.addCapabilities: {e}"
        if n not in allowed:
            return (f"{where}.addCapabilities: capability {n} is not allowed; allowed without operator consent: "
                    f"{', '.join(sorted(set(ALLOWED_EXTRA_CAPABILITIES) | set(DEFAULT_CAPABILITIES)))} "
                    f"(an operator can allow more with `orchestra server --allow-capability {n}`)")
    return None


def docker_security_options(read_only_root_fs: bool = False,
                            add_capabilities: Iterable[str] = ()) -> dict[str, Any]:
    """Keyword arguments for docker's containers.create/run that apply the safe defaults.

    Unknown capability names are dropped rather than passed to Docker (the plane refused them
    already; an agent must not fail a container over a name it does not know).
    """
    extra = []
    for cap in add_capabilities:
        try:
            n = normalise_capability(cap)
        except PolicyError:
            continue
        if n not in DEFAULT_CAPABILITIES and n not in extra:
            extra.append(n)
    return {
        "security_opt": [NO_NEW_PRIVILEGES],
        "pids_limit": PIDS_LIMIT,
        "cap_drop": ["ALL"],
        "cap_add": list(DEFAULT_CAPABILITIES) + extra,
        "read_only": bool(read_only_root_fs),
        "privileged": False,
    }
