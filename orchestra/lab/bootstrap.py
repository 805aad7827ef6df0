"""Installs and (re)starts the orchestra agent on a node over SSH, then waits until the
plane lists the node as Ready. Running it again upgrades in place: the venv is reused,
orchestra's wheel is reinstalled, the unit is rewritten and the agent restarted.

The wheels are installed without pip, by orchestra/lab/venvinstall.py and PyPA's installer
(whose own wheel travels along and is imported from the wheel file)."""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import time

from orchestra.lab import agentlayer, venvinstall, wheelhouse
from orchestra.transport import ClientTLS
from orchestra.lab.planequery import wait_ready
from orchestra.lab.ssh import LabError, Node, SSHTarget

VENV = "/opt/orchestra/venv"
WHEELS = "/var/tmp/orchestra-wheelhouse"
UNIT = "/etc/systemd/system/orchestra-agent.service"
ENV_FILE = "/etc/orchestra/agent.env"      # the join token, readable by root only
STATE_DIR = "/var/lib/orchestra/agent"     # the node's key and certificate (kept across upgrades)
# The box's agent layer, where a lab VM has one (orchestra.lab.agentlayer).
LAYER_SITE = venvinstall.site_packages(agentlayer.MOUNT, wheelhouse.GUEST_PYTHON)
DOCKER_HOST = "unix:///var/run/docker.sock"


@dataclasses.dataclass
class BootstrapSpec:
    target: SSHTarget
    key: str
    server: str            # the plane as the agent in the guest dials it
    name: str
    labels: str = ""
    token: str = ""        # join token; needed on the first bootstrap only (the agent keeps its cert)
    plane: str = ""        # the plane as this machine reaches it (for the Ready check); default: server
    plane_tls: ClientTLS | None = None   # admin credentials for that check
    ready_timeout: float = 180.0


def parse_labels(text: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise LabError(f"bad label {item!r}: expected key=value (labels are comma separated)")
        labels[k] = v
    return labels


def unit_text(spec: BootstrapSpec) -> str:
    args = ["--server", spec.server, "--name", spec.name, "--docker-host", DOCKER_HOST,
            "--state-dir", STATE_DIR]
    if spec.labels:
        args += ["--labels", spec.labels]
    return f"""# Written by `orchestra node bootstrap`; rewritten on every bootstrap.
[Unit]
Description=orchestra node agent ({spec.name})
After=network-online.target docker.service
Wants=docker.service

[Service]
ExecStart={VENV}/bin/orchestra-agent {' '.join(shlex.quote(a) for a in args)}
Restart=always
RestartSec=2
Environment=PYTHONUNBUFFERED=1
EnvironmentFile=-{ENV_FILE}

[Install]
WantedBy=multi-user.target
"""


# One round trip for every fact check_guest needs (each SSH command costs a second or more
# in a guest under software emulation).
GUEST_FACTS = """sudo -n true 2>/dev/null && echo sudo=ok
command -v docker >/dev/null && echo docker=ok
command -v python3 >/dev/null && python3 -c 'import sys; print("python=%d.%d" % sys.version_info[:2]); import ensurepip, venv; print("venv=ok")' 2>/dev/null
for d in {site}/*.dist-info; do [ -f "$d/RECORD" ] && echo "layer=${{d##*/}}"; done
true""".format(site=LAYER_SITE)


def guest_facts(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("layer="))


def layer_dists(text: str) -> set[str]:
    """The distributions the guest's agent layer holds (dist-info names), from GUEST_FACTS' output."""
    return {line[len("layer="):] for line in text.splitlines() if line.startswith("layer=")}


def _normal(name: str, version: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower() + "-" + version


def wheel_dist(wheel: str) -> str:
    """'PyYAML-6.0.2-cp311-cp311-manylinux.whl' -> 'pyyaml-6.0.2', comparable to a dist-info name."""
    name, version = os.path.basename(wheel).split("-")[:2]
    return _normal(name, version)


def seedable(deps: list[str], layer: set[str]) -> dict[str, str]:
    """wheel -> the layer's dist-info of the very same distribution, for the wheels the layer has."""
    by_dist = {_normal(*info[: -len(".dist-info")].rsplit("-", 1)): info for info in layer}
    return {w: by_dist[wheel_dist(w)] for w in deps if wheel_dist(w) in by_dist}


def check_facts(target: SSHTarget, facts: dict[str, str]) -> None:
    """Refuses guests the wheelhouse cannot serve, with what to install."""
    if facts.get("sudo") != "ok":
        raise LabError(f"{target}: user {target.user} cannot sudo without a password")
    if "python" not in facts:
        raise LabError(f"{target}: python3 is not installed in the guest (need CPython 3.11)")
    want = "%d.%d" % wheelhouse.GUEST_PYTHON
    if facts["python"] != want:
        raise LabError(f"{target}: the guest has Python {facts['python']}, but the wheelhouse "
                       f"is built for CPython {want} (use a Debian 12 guest)")
    if facts.get("venv") != "ok":
        raise LabError(f"{target}: python3-venv is missing in the guest (apt-get install python3-venv)")
    if facts.get("docker") != "ok":
        raise LabError(f"{target}: Docker is not installed in the guest (apt-get install docker.io)")


def check_guest(node: Node) -> set[str]:
    """Checks the guest; returns the distributions its agent layer holds (none off the lab)."""
    out = node.run(GUEST_FACTS, check=False).stdout
    check_facts(node.target, guest_facts(out))
    return layer_dists(out)
    # Docker may still be starting right after boot: give it a little while.
    deadline = time.monotonic() + 60
    while True:
        res = node.run("docker version --format '{{.Server.Version}}'", sudo=True, check=False)
        if res.status == 0:
            return
        if time.monotonic() > deadline:
            raise LabError(f"{node.target}: Docker is installed but its daemon does not answer: "
                           f"{(res.stderr or res.stdout).strip()[-500:]}")
        time.sleep(2)


def installer_wheel(wheels: list[str]) -> str:
    for w in wheels:
        if os.path.basename(w).startswith("installer-"):
            return w
    raise LabError("the wheelhouse has no wheel of `installer` (it is one of orchestra's dependencies)")


def install(node: Node, spec: BootstrapSpec, wheels: list[str], layer: set[str] = frozenset()) -> None:
    own, deps = wheels[0], wheels[1:]
    script = venvinstall.__file__
    installer = installer_wheel(deps)
    # On a lab VM the agent layer already holds most dependencies, installed for this very
    # Python: those are copied from it instead of travelling over SSH and being unpacked again.
    seeds = seedable([w for w in deps if w != installer], layer)
    send = [own, installer, *(w for w in deps if w not in seeds and w != installer)]
    node.run(f"mkdir -p {WHEELS} && chown {shlex.quote(spec.target.user)} {WHEELS}", sudo=True)
    node.put_files(send + [script], WHEELS, always=(own, script))
    args = [f"--seed {LAYER_SITE}/{info}" for info in seeds.values()]
    args += [f"{WHEELS}/{os.path.basename(w)}" for w in send[1:]]
    # A venv without pip (pip needs minutes under software emulation, see venvinstall.py).
    # Dependencies already present stay; orchestra's own wheel is always reinstalled, so a
    # rebuilt wheel of the same version replaces it.
    node.run(f"test -x {VENV}/bin/python || python3 -m venv --without-pip {VENV}", sudo=True)
    node.run(f"PYTHONPATH={WHEELS}/{os.path.basename(installer)} {VENV}/bin/python "
             f"{WHEELS}/venvinstall.py {VENV} {' '.join(args)} "
             f"--force {WHEELS}/{os.path.basename(own)}", sudo=True, timeout=900)
    if spec.token:
        node.write_file(ENV_FILE, f"ORCHESTRA_TOKEN={spec.token}\n", mode=0o600)
    node.write_file(UNIT, unit_text(spec))
    node.run("systemctl daemon-reload && systemctl enable -q orchestra-agent && "
             "systemctl restart orchestra-agent", sudo=True)


def agent_journal(node: Node, lines: int = 30) -> str:
    res = node.run(f"journalctl -u orchestra-agent -n {lines} --no-pager", sudo=True, check=False)
    return res.stdout.strip()


def bootstrap(spec: BootstrapSpec, wheels: list[str] | None = None, log=print) -> dict:
    """Returns timings (seconds) of each step."""
    parse_labels(spec.labels)
    times = {}
    t0 = time.monotonic()
    wheels = wheels or wheelhouse.build()
    times["wheelhouse"] = time.monotonic() - t0
    with Node(spec.target, spec.key) as node:
        t = time.monotonic()
        layer = check_guest(node)
        times["checks"] = time.monotonic() - t
        t = time.monotonic()
        log(f"{spec.name}: installing orchestra into {VENV} on {spec.target}")
        install(node, spec, wheels, layer)
        times["install"] = time.monotonic() - t
        t = time.monotonic()
        log(f"{spec.name}: agent started, waiting for Ready at {spec.plane or spec.server}")
        try:
            wait_ready(spec.plane or spec.server, spec.name, spec.ready_timeout, spec.plane_tls)
        except LabError as e:
            raise LabError(f"{e}\nlast agent log lines on {spec.target}:\n{agent_journal(node)}") from None
        times["ready"] = time.monotonic() - t
    return times
