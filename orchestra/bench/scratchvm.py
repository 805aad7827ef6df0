"""A throwaway VM for `bench isolation`: the lab's box booted straight with QEMU (no libvirt, no
Vagrant, no agent: the box's agent unit finds no configuration and stays off), on a copy-on-write
overlay that is deleted afterwards, reached over SSH through a forward on 127.0.0.1 with QEMU
user networking and restrict=on (nothing leaves QEMU), with a key of its own handed over at
boot like a lab VM's (orchestra.lab.labkey).

The VM is the lab's: same kernel, one vCPU, 1 GiB, under KVM when it works and TCG otherwise
(with the lab's 256 MiB translation cache). Its root disk is opened with cache=none, so the
host's page cache does not flatter the guest's disk figures.
"""
from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from orchestra.lab import labkey
from orchestra.lab.ssh import LabError, Node, SSHTarget

USER = "vagrant"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def qemu_command(box_dir: Path, overlay: Path, port: int, console: Path, authorized_keys: Path, *,
                 kvm: bool, memory_mib: int = 1024, cpus: int = 1) -> list[str]:
    accel = ["-accel", "kvm", "-cpu", "host"] if kvm else \
        ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", "qemu64"]
    return ["qemu-system-x86_64", *accel, "-m", str(memory_mib), "-smp", str(cpus),
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
            "-kernel", str(box_dir / "vmlinuz"), "-initrd", str(box_dir / "initrd.img"),
            "-append", "root=/dev/vda rw console=ttyS0 net.ifnames=0 systemd.hostname=orchestra-bench",
            "-drive", f"file={overlay},if=virtio,format=qcow2,cache=none",
            "-netdev", f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{port}-:22",
            "-device", "virtio-net-pci,netdev=n0", "-device", "virtio-rng-pci",
            "-fw_cfg", f"name=opt/orchestra/authorized_keys,file={authorized_keys}",
            "-serial", f"file:{console}"]


def ssh_banner(port: int, timeout: float = 120.0) -> bool:
    """Whether sshd answers on the forward. QEMU accepts on 127.0.0.1 before the guest listens
    and closes at once while nothing listens; once sshd listens, its banner can take many
    seconds under emulation, so this waits for it (giving up early would only make sshd start
    over for the next try)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(timeout)
            return s.recv(4) == b"SSH-"
    except OSError:
        return False


@dataclasses.dataclass
class ScratchVM:
    proc: subprocess.Popen
    workdir: Path
    target: SSHTarget
    key: str
    boot_seconds: float       # QEMU started -> a command ran over SSH

    def node(self) -> Node:
        return Node(self.target, self.key)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.workdir, ignore_errors=True)


def boot(box_dir: Path, *, kvm: bool, extra_disk_gib: int = 0, timeout: float = 600.0,
         memory_mib: int = 1024) -> ScratchVM:
    """Boots a VM and returns once a command runs in it over SSH. `extra_disk_gib` grows the
    root disk (and its file system, online) by that much for big test files."""
    if shutil.which("qemu-system-x86_64") is None or shutil.which("qemu-img") is None:
        raise LabError("QEMU is not installed (run scripts/install-vm-deps.sh)")
    image = box_dir / "box.img"
    if not image.exists():
        raise LabError(f"{box_dir} has no box.img (rebuild the box: vagrant/build-box.sh)")
    workdir = Path(tempfile.mkdtemp(prefix="orchestra-scratchvm-"))
    key, public = labkey.ensure(workdir, comment="orchestra-bench")
    overlay = workdir / "root.qcow2"
    size = ["4G"] if not extra_disk_gib else [f"{4 + extra_disk_gib}G"]
    res = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(image),
                          str(overlay), *size], capture_output=True, text=True)
    if res.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        raise LabError(f"qemu-img could not make the VM's overlay: {res.stderr.strip()}")
    port = free_port()
    console = workdir / "console.log"
    t0 = time.monotonic()
    proc = subprocess.Popen(qemu_command(box_dir, overlay, port, console, public, kvm=kvm, memory_mib=memory_mib),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(workdir / "qemu.log", "wb"))
    vm = ScratchVM(proc, workdir, SSHTarget(USER, "127.0.0.1", port), str(key), 0.0)
    try:
        while True:
            if proc.poll() is not None:
                raise LabError(f"QEMU exited with {proc.returncode}: "
                               f"{(workdir / 'qemu.log').read_text(errors='replace')[-2000:]}")
            try:
                if ssh_banner(port):
                    with Node(vm.target, key, timeout=10) as node:
                        node.run("true")
                    break
            except LabError:
                pass       # sshd up but the session failed (still starting): try again
            if time.monotonic() - t0 > timeout:
                tail = console.read_text(errors="replace")[-2000:] if console.exists() else ""
                raise LabError(f"the scratch VM did not answer SSH within {timeout:.0f} s; console:\n{tail}")
            time.sleep(0.5)
        vm.boot_seconds = time.monotonic() - t0
        if extra_disk_gib:
            with vm.node() as node:
                node.run("resize2fs /dev/vda >/dev/null 2>&1", sudo=True, timeout=300)
        return vm
    except BaseException:
        vm.stop()
        raise


def copy_in(vm: ScratchVM, local: str, remote: str, mode: int = 0o755) -> None:
    with vm.node() as node, open(local, "rb") as f:
        node.run(f"cat > {remote} && chmod {mode:o} {remote}", stdin=f.read())

