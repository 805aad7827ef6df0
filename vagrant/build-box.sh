#!/usr/bin/env bash
# Builds a Debian 12 libvirt box offline (only Debian packages, no public box, no PyPI):
# Docker, Python 3.11 with venv, busybox-static, sysbench and ab (for `orchestra bench
# isolation`), sshd with the Vagrant insecure key for the first login (Vagrant replaces it on
# `up`), and the unit that runs the agent from the agent layer (orchestra/lab/agentlayer.py:
# a separate disk built on the host, so a new orchestra never rebuilds this box). The image
# has no bootloader: the guest's own kernel and initrd sit beside the box and the Vagrantfile
# boots them directly, which is both smaller and faster under QEMU software emulation.
#
# Usage: vagrant/build-box.sh [OUT_DIR]
#   OUT_DIR defaults to ~/.cache/orchestra/boxes/<hash of the builder inputs>; if that
#   directory already holds a complete build it is reused (prints its path, builds nothing).
# Env: ORCHESTRA_DEBIAN_MIRROR (default http://deb.debian.org/debian),
#      ORCHESTRA_DEBIAN_SECURITY (default http://deb.debian.org/debian-security),
#      ORCHESTRA_BOX_SIZE (ext4 size of the root disk, default 4G).
# Output (last line of stdout): the directory holding orchestra-debian12.box (for Vagrant), its
# disk box.img, vmlinuz and initrd.img.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mirror="${ORCHESTRA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${ORCHESTRA_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
size="${ORCHESTRA_BOX_SIZE:-4G}"
packages="systemd,systemd-sysv,udev,dbus,kmod,linux-image-amd64,initramfs-tools,openssh-server,\
python3,python3-venv,docker.io,apparmor,iproute2,sudo,busybox-static,libnss-myhostname,\
ca-certificates,procps,sysbench,apache2-utils"

for tool in mmdebstrap mkfs.ext4 qemu-img sha256sum; do
  command -v "$tool" >/dev/null || { echo "build-box: $tool is missing (run scripts/install-vm-deps.sh)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "build-box: must run as root (mmdebstrap --mode=root)" >&2; exit 2; }

# The cache key: everything that changes what ends up in the box.
key="$( (cat "$0"; find "$here/guest" -type f | sort | xargs cat; echo "$mirror $security $size $packages") \
        | sha256sum | cut -c1-16)"
out="${1:-${HOME}/.cache/orchestra/boxes/$key}"
if [ -f "$out/complete" ]; then
  echo "build-box: reusing $out" >&2
  echo "$out"
  exit 0
fi

insecure_pub="$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub /opt/vagrant/embedded/gems/gems/vagrant-*/keys/vagrant.pub 2>/dev/null | head -1 || true)"
[ -n "$insecure_pub" ] || { echo "build-box: Vagrant's insecure public key not found (is vagrant installed?)" >&2; exit 2; }

start=$(date +%s)
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/orchestra-box.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

echo "build-box: mmdebstrap into $rootfs" >&2
# The initramfs settings go in before the kernel is installed, so its initrd is made once.
mmdebstrap --variant=minbase --mode=root --quiet \
  --include="$packages" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
  --setup-hook="copy-in $here/guest/etc/initramfs-tools/conf.d/orchestra-lab.conf /etc/initramfs-tools/conf.d" \
  --setup-hook="copy-in $here/guest/usr/share/initramfs-tools/modules.d/orchestra-lab /usr/share/initramfs-tools/modules.d" \
  --customize-hook="sync-in $here/guest /" \
  --customize-hook="upload $insecure_pub /tmp/vagrant.pub" \
  --customize-hook='chroot "$1" sh /usr/local/lib/orchestra/customize.sh' \
  bookworm "$rootfs" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security bookworm-security main" >&2

cp -L "$rootfs/vmlinuz" "$work/vmlinuz"
cp -L "$rootfs/initrd.img" "$work/initrd.img"

echo "build-box: ext4 + qcow2" >&2
mkfs.ext4 -q -L root -d "$rootfs" "$work/root.raw" "$size"
qemu-img convert -c -O qcow2 "$work/root.raw" "$work/box.img"
virtual_gb=$(( ( $(stat -c %s "$work/root.raw") + 1073741823 ) / 1073741824 ))
printf '{"provider":"libvirt","format":"qcow2","virtual_size":%d}\n' "$virtual_gb" > "$work/metadata.json"
cat > "$work/Vagrantfile" <<'VF'
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = "kvm"
  end
end
VF
tar -C "$work" -cf "$out/orchestra-debian12.box" metadata.json Vagrantfile box.img
# box.img also stays beside the box: `orchestra bench isolation` boots it with QEMU directly.
mv "$work/vmlinuz" "$work/initrd.img" "$work/box.img" "$out/"
echo "$key" > "$out/key"
end=$(date +%s)
echo "build-box: built in $((end - start)) s, box $(du -h "$out/orchestra-debian12.box" | cut -f1)" >&2
touch "$out/complete"
echo "$out"
