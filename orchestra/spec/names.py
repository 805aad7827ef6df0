"""Rules for names: nodes, workloads, tenants, label keys and values, environment variables, capabilities.

Each check returns None when the text is valid, else a sentence saying what is expected.
"""
from __future__ import annotations

import re

# Where the agent puts the variables from secrets inside a container (agent/container_files.py); no
# volume may be mounted there (orchestra.spec.volumes). Here rather than there so that the agent
# has it without loading the manifest checks.
RESERVED_PATH = "/run/orchestra"

# Replica ids append "-<index>" (up to "-999") to a workload name and must still be a
# DNS-1123 label of at most 63 characters (they become container and host names).
MAX_WORKLOAD_NAME = 53

_NODE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
# A Docker image reference: [registry[:port]/]path[:tag][@sha256:digest].
_IMAGE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@sha256:[a-f0-9]{64})?$")

# Linux capabilities Docker knows (without the CAP_ prefix).
CAPABILITIES = frozenset("""
AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN DAC_OVERRIDE
DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE MAC_ADMIN
MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON SETFCAP SETGID
SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE SYS_PACCT SYS_PTRACE
SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG WAKE_ALARM
""".split())


def dns_label_problem(text: str, max_len: int = 63) -> str | None:
    if len(text) > max_len:
        return f"is {len(text)} characters long (at most {max_len})"
    if not _DNS_LABEL.fullmatch(text):
        return ("must consist of lower-case letters, digits and '-', and start and end with a "
                "letter or digit (e.g. web, api-v2)")
    return None


def node_name_problem(text: str) -> str | None:
    """A node name: a host name as people spell them (vm-1, node_2.lab), also in certificates."""
    if not _NODE_NAME.fullmatch(text):
        return ("use 1-253 letters, digits, '.', '_' or '-', starting and ending with a letter or "
                "digit (e.g. vm-1)")
    return None


def workload_name_problem(text: str) -> str | None:
    if len(text) > MAX_WORKLOAD_NAME:
        return (f"is {len(text)} characters long (at most {MAX_WORKLOAD_NAME}, so that replica "
                f"ids <name>-<index> stay within 63)")
    return dns_label_problem(text)


def label_key_problem(text: str) -> str | None:
    prefix, slash, name = text.rpartition("/")
    if slash:
        if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix):
            return ("has an invalid prefix: a label key is [prefix/]name where prefix is a DNS "
                    "subdomain (e.g. example.com/tier)")
    if not name:
        return "is empty: a label key needs a name (e.g. app, zone, example.com/tier)"
    if len(name) > 63:
        return f"has a name part of {len(name)} characters (at most 63)"
    if not _LABEL_NAME.fullmatch(name):
        return ("must consist of letters, digits, '-', '_' and '.', and start and end with a "
                "letter or digit (e.g. app, zone, example.com/tier)")
    return None


def label_value_problem(text: str) -> str | None:
    if len(text) > 63:
        return f"is {len(text)} characters long (a label value has at most 63)"
    if text and not _LABEL_NAME.fullmatch(text):
        return ("must be empty or consist of letters, digits, '-', '_' and '.', and start and end "
                "with a letter or digit (e.g. web, zone-a, v1.2)")
    return None


def env_name_problem(text: str) -> str | None:
    if not _ENV_NAME.fullmatch(text):
        return ("is not a valid environment variable name (letters, digits, '_', '-', '.'; "
                "not starting with a digit, e.g. GREETING)")
    return None


def shell_name_problem(text: str) -> str | None:
    """A variable set from a secret: the image's /bin/sh sets it (orchestra.spec.volumes), so a shell name."""
    if not _SHELL_NAME.fullmatch(text):
        return ("is not a shell variable name (letters, digits and '_', not starting with a digit, e.g. "
                "DB_PASSWORD): a variable from a secret is set by the container's /bin/sh")
    return None


def data_key_problem(text: str) -> str | None:
    """A key of a Config or Secret: also the name of its file in a mounted volume (Kubernetes' rule)."""
    if len(text) > 253:
        return f"is {len(text)} characters long (at most 253)"
    if not _DATA_KEY.fullmatch(text) or text in (".", ".."):
        return "must consist of letters, digits, '-', '_' and '.' (it names a file, e.g. app.conf)"
    return None


def image_problem(text: str) -> str | None:
    if len(text) > 255:
        return f"is {len(text)} characters long (an image reference has at most 255)"
    if not _IMAGE.fullmatch(text):
        return ("is not an image reference (expected [registry/]name[:tag][@sha256:digest] "
                "with a lower-case name, e.g. local/busybox:1)")
    return None


_DEFAULT_REGISTRY_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")


def canonical_image(ref: str) -> str:
    """An image reference as the engine lists it (RepoTags, RepoDigests, Id), so that a replica's
    image and a node's images compare as strings: Docker Hub's prefixes dropped, `:latest` when
    there is neither tag nor digest, the tag dropped beside a digest (the engine goes by the digest)."""
    if ref.startswith("sha256:"):
        return ref
    name, at, digest = ref.partition("@")
    tagged = ":" in name.rsplit("/", 1)[-1]
    for prefix in _DEFAULT_REGISTRY_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if at:
        return f"{name.rsplit(':', 1)[0] if tagged else name}@{digest}"
    return name if tagged else f"{name}:latest"


def capability_name(text: str) -> str | None:
    """The canonical capability name (NET_ADMIN) for `text` (net_admin, CAP_NET_ADMIN), or None."""
    name = text.upper()
    if name.startswith("CAP_"):
        name = name[4:]
    return name if name in CAPABILITIES else None


# -- the text forms of flags: labels, taints, addresses -------------------------------------

def parse_labels(text: str | list[str] | tuple[str, ...]) -> dict[str, str]:
    """`k=v,k2=v2` (or several such items) -> dict; every key and value checked like a manifest's.
    Raises ValueError naming the offending part."""
    items = [text] if isinstance(text, str) else list(text)
    out: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep:
                raise ValueError(f"label {part!r} has no '=': write key=value (several: k=v,k2=v2)")
            problem = label_key_problem(key)
            if problem:
                raise ValueError(f"label key {key!r} {problem}")
            problem = label_value_problem(value)
            if problem:
                raise ValueError(f"label {key}: value {value!r} {problem}")
            if key in out:
                raise ValueError(f"label {key!r} is given twice")
            out[key] = value
    return out


TAINT_EFFECTS_TEXT = "NoSchedule"


def taint_text(key: str, value: str, effect: str) -> str:
    """How a taint is written: key=value:Effect, or key:Effect without a value."""
    return f"{key}={value}:{effect}" if value else f"{key}:{effect}"


def parse_taint(text: str) -> tuple[str, str, str]:
    """`key=value:NoSchedule` or `key:NoSchedule` -> (key, value, effect); ValueError otherwise."""
    kv, sep, effect = text.rpartition(":")
    if not sep or effect != TAINT_EFFECTS_TEXT:
        raise ValueError(f"taint {text!r}: write key=value:NoSchedule (or key:NoSchedule)")
    key, _, value = kv.partition("=")
    problem = label_key_problem(key)
    if problem:
        raise ValueError(f"taint {text!r}: key {key!r} {problem}")
    problem = label_value_problem(value)
    if problem:
        raise ValueError(f"taint {text!r}: value {value!r} {problem}")
    return key, value, effect


def address_problem(text: str) -> str | None:
    """HOST:PORT (an IPv6 host in brackets: [::1]:7070)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:7070)"
    return None


def addresses_problem(text: str) -> str | None:
    """One or more HOST:PORT separated by commas: the planes of one cluster (a:7070,b:7070)."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        return f"{text!r} is not HOST:PORT[,HOST:PORT...] (e.g. 127.0.0.1:7070 or a:7070,b:7070)"
    for p in parts:
        problem = address_problem(p)
        if problem:
            return problem if len(parts) == 1 else f"{text!r}: {problem}"
    if len(set(parts)) != len(parts):
        return f"{text!r} names an address twice"
    return None


def parse_addresses(text: str) -> list[str]:
    """`a:7070, b:7070` -> ["a:7070", "b:7070"]; ValueError with addresses_problem's reason."""
    problem = addresses_problem(text)
    if problem:
        raise ValueError(problem)
    return [p.strip() for p in text.split(",")]
