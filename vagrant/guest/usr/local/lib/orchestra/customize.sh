#!/bin/sh
# Runs inside the box's root filesystem (chroot) at build time: the vagrant user with the
# insecure key Vagrant expects on first login, services enabled, timers that only cost CPU
# under software emulation masked, caches dropped to keep the box small.
set -eu
useradd -m -s /bin/bash -G sudo,docker vagrant
echo 'vagrant:vagrant' | chpasswd
install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh
install -m 600 -o vagrant -g vagrant /tmp/vagrant.pub /home/vagrant/.ssh/authorized_keys
rm -f /tmp/vagrant.pub
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/vagrant
chmod 440 /etc/sudoers.d/vagrant
passwd -l root
echo orchestra-box > /etc/hostname
# Host keys are per machine: made at first boot (ssh.service drop-in), not baked in.
rm -f /etc/ssh/ssh_host_*
# No DNS server is reachable from a guest with restrict=on; an empty resolv.conf keeps
# lookups failing fast instead of timing out.
: > /etc/resolv.conf
systemctl enable systemd-networkd ssh docker orchestra-agent orchestra-ssh-key >/dev/null 2>&1
# The agent layer's mount point (orchestra-agent.service mounts the layer disk there).
mkdir -p /opt/orchestra/layer
# Units that only cost CPU at boot under software emulation. apparmor.service would load the
# distribution's profiles (none the lab uses); dockerd loads its own docker-default profile.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
            fstrim.timer man-db.timer dpkg-db-backup.timer systemd-networkd-wait-online.service \
            apparmor.service systemd-pstore.service modprobe@drm.service modprobe@efi_pstore.service \
            modprobe@fuse.service sys-fs-fuse-connections.mount modprobe@configfs.service \
            sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
            proc-sys-fs-binfmt_misc.automount systemd-binfmt.service; do
  systemctl mask "$unit" >/dev/null 2>&1 || true
done
systemctl set-default multi-user.target >/dev/null 2>&1
rm -rf /var/cache/apt/archives/*.deb /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
