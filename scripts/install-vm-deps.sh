#!/usr/bin/env bash
# What the VM tier needs on a Debian 12 host (run as root), idempotently: QEMU, libvirt,
# Vagrant with vagrant-libvirt, the box builder's tools, netcat for the guest->plane
# forward, the host side of `orchestra bench isolation` (sysbench, ab, gcc with a static libc
# for its STREAM binary); then libvirt set up for QEMU user networking and virtlogd/libvirtd
# started when no init system runs them.
set -euo pipefail

need=()
for pair in qemu-system-x86_64:qemu-system-x86 qemu-img:qemu-utils vagrant:vagrant \
            virsh:libvirt-clients libvirtd:libvirt-daemon-system mmdebstrap:mmdebstrap \
            mkfs.ext4:e2fsprogs nc.openbsd:netcat-openbsd sysbench:sysbench ab:apache2-utils \
            gcc:gcc busybox:busybox-static; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
[ -d /usr/share/rubygems-integration/all/gems/vagrant-libvirt-0.11.2 ] \
  || ls -d /usr/share/rubygems-integration/all/gems/vagrant-libvirt-* >/dev/null 2>&1 \
  || need+=(vagrant-libvirt)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-vm-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# In usernet mode each guest reaches the plane through `guestfwd=...-cmd:nc 127.0.0.1 PORT`,
# which starts one nc per guest connection. (A guestfwd to a tcp: chardev carries a single
# connection for the VM's whole life, so an agent could never reconnect.) libvirt's default
# QEMU seccomp sandbox forbids spawning that command; turn the sandbox off.
conf=/etc/libvirt/qemu.conf
restart=0
if ! grep -q '^seccomp_sandbox = 0' "$conf"; then
  echo "install-vm-deps: setting seccomp_sandbox = 0 in $conf (guestfwd runs nc per connection)"
  printf '\n# orchestra lab: guestfwd cmd: needs to spawn (scripts/install-vm-deps.sh)\nseccomp_sandbox = 0\n' >> "$conf"
  restart=1
fi

running() { [ -n "$(pgrep -x "$1" || true)" ]; }
if [ -d /run/systemd/system ]; then
  systemctl start virtlogd libvirtd
  [ "$restart" = 1 ] && systemctl restart libvirtd
else
  # No systemd as PID 1 (containers, CI runners): start the daemons by hand.
  running virtlogd || virtlogd -d
  if running libvirtd && [ "$restart" = 1 ]; then
    kill "$(pgrep -x libvirtd)"
    for _ in $(seq 50); do running libvirtd || break; sleep 0.2; done
  fi
  running libvirtd || libvirtd -d
fi
for _ in $(seq 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
virsh -c qemu:///system version >/dev/null || { echo "install-vm-deps: libvirtd does not answer" >&2; exit 1; }
# Debian's libvirt ships a NAT network "default"; labs here use QEMU user networking only,
# so it must never start by itself.
if virsh -c qemu:///system net-info default 2>/dev/null | grep -q '^Autostart:.*yes'; then
  virsh -c qemu:///system net-autostart default --disable >/dev/null
fi
# vagrant-libvirt keeps images in the "default" storage pool; make sure it exists.
if ! virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
  virsh -c qemu:///system pool-define-as default dir --target /var/lib/libvirt/images >/dev/null
  virsh -c qemu:///system pool-build default >/dev/null 2>&1 || true
fi
virsh -c qemu:///system pool-start default >/dev/null 2>&1 || true
virsh -c qemu:///system pool-autostart default >/dev/null 2>&1 || true
echo "install-vm-deps: ok"
