"""Runs Vagrant on one lab: a state directory holding the lab's settings (lab.yml, read by
vagrant/Vagrantfile) and Vagrant's own state (.vagrant), so that several labs and the
e2e tests never share machines."""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

from orchestra.lab.ssh import LabError, SSHTarget
from orchestra.lab.wheelhouse import CACHE, project_root

SETTING_KEYS = ("nodes", "memory", "cpus", "accel", "net", "prefix", "zones", "labels",
                "ssh_port_base", "plane_port", "box", "box_dir", "agent_layer", "token_file", "ssh_key", "labnet_port")


def vagrant_dir() -> Path:
    return project_root() / "vagrant"


def labs_dir() -> Path:
    return Path(os.environ.get("ORCHESTRA_LAB_DIR", CACHE / "labs"))


@dataclasses.dataclass
class Machine:
    name: str
    labels: str
    server: str           # the plane as this node's agent dials it
    ssh: SSHTarget
    key: str


class Lab:
    def __init__(self, name: str, state_dir: Path | None = None):
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", name):
            raise LabError(f"bad lab name {name!r}: lower-case letters, digits and dashes, at most 31")
        self.name = name
        self.dir = Path(state_dir) if state_dir else labs_dir() / name

    @property
    def config_file(self) -> Path:
        return self.dir / "lab.yml"

    def write_settings(self, settings: dict) -> None:
        unknown = set(settings) - set(SETTING_KEYS)
        if unknown:
            raise LabError(f"unknown lab settings: {', '.join(sorted(unknown))}")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(yaml.safe_dump(settings, sort_keys=True))

    def read_settings(self) -> dict:
        """What write_settings wrote (lab.yml)."""
        try:
            return yaml.safe_load(self.config_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as e:
            raise LabError(f"cannot read the lab's settings {self.config_file}: {e}") from None

    def exists(self) -> bool:
        return self.config_file.exists()

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("ORCHESTRA_") and k[len("ORCHESTRA_"):].lower() in SETTING_KEYS)}
        env.update(VAGRANT_CWD=str(vagrant_dir()), VAGRANT_DOTFILE_PATH=str(self.dir / ".vagrant"),
                   ORCHESTRA_LAB_CONFIG=str(self.config_file), VAGRANT_DEFAULT_PROVIDER="libvirt",
                   VAGRANT_CHECKPOINT_DISABLE="1", VAGRANT_NO_COLOR="1")
        return env

    def vagrant(self, *args: str, timeout: float = 1800, log=None) -> str:
        if shutil.which("vagrant") is None:
            raise LabError("vagrant is not installed (run scripts/install-vm-deps.sh)")
        proc = subprocess.Popen(["vagrant", *args], env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        lines = []
        try:
            for line in proc.stdout:
                lines.append(line)
                if log:
                    log(line.rstrip())
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise LabError(f"vagrant {' '.join(args)} did not finish within {timeout:.0f} s") from None
        out = "".join(lines)
        if proc.returncode != 0:
            raise LabError(f"vagrant {' '.join(args)} failed (lab {self.dir}):\n{_excerpt(out.strip())}")
        return out

    def nodes(self) -> list[dict]:
        """The lab's nodes as the Vagrantfile expanded them (name, labels, ssh_port, server)."""
        path = self.dir / ".vagrant" / "orchestra-lab.json"
        if not path.exists():
            raise LabError(f"lab {self.name} has no machines yet ({path} missing): run `orchestra cluster up`")
        return json.loads(path.read_text())["nodes"]

    def _expanded(self) -> dict:
        path = self.dir / ".vagrant" / "orchestra-lab.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def settings(self) -> dict:
        return self._expanded().get("settings", {})

    def boot_dir(self) -> str | None:
        """Where the Vagrantfile wrote the nodes' boot-time agent configuration (layered labs)."""
        return self._expanded().get("boot_dir")

    def machines(self) -> list[Machine]:
        """The lab's machines with how to reach them. In usernet mode that is known without
        asking Vagrant (127.0.0.1:<ssh_port>, the key Vagrant inserted); otherwise from
        `vagrant ssh-config`, which lists running machines only."""
        settings = self.settings()
        if settings.get("net") == "usernet":
            out = []
            for node in self.nodes():
                # The lab's own key (orchestra.lab.labkey), else the one Vagrant inserted.
                key = Path(settings.get("ssh_key") or
                           self.dir / ".vagrant" / "machines" / node["name"] / "libvirt" / "private_key")
                if key.exists() and (self.dir / ".vagrant" / "machines" / node["name"] / "libvirt" / "id").exists():
                    out.append(Machine(node["name"], node["labels"], node["server"],
                                       SSHTarget("vagrant", "127.0.0.1", int(node["ssh_port"])), str(key)))
            return out
        conf = parse_ssh_config(self.vagrant("ssh-config", timeout=300))
        out = []
        for node in self.nodes():
            entry = conf.get(node["name"])
            if entry is None:
                continue
            out.append(Machine(node["name"], node["labels"], node["server"],
                               SSHTarget(entry["user"], entry["hostname"], int(entry["port"])),
                               entry["identityfile"].strip('"')))
        return out


def parse_ssh_config(text: str) -> dict[str, dict[str, str]]:
    hosts: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) != 2:
            continue
        key, value = parts[0].lower(), parts[1]
        if key == "host":
            current = hosts.setdefault(value, {})
        elif current is not None and key not in current:
            current[key] = value
    return hosts


def _excerpt(out: str, limit: int = 4000) -> str:
    """Vagrant's own message and the start of a Ruby traceback come first; a long run's last lines
    say where it stopped. Both ends of a long output, then."""
    if len(out) <= limit:
        return out
    return f"{out[:limit // 2]}\n[...]\n{out[-limit // 2:]}"
