#!/usr/bin/env bash
# Installs Debian's etcd-server (3.4) for orchestra's etcd store and its tests, idempotently.
#
# orchestra never uses a system-wide etcd: tests start their own members on 127.0.0.1 with
# their own data dirs and certificates, and operators run theirs as they choose. So the
# package's own service is kept from starting while installing (policy-rc.d answers 101, "not
# allowed"), and disabled for later boots; a system etcd found running is reported, not
# killed (it may be someone else's).
set -euo pipefail

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# installing etcd-server: its service must not start by itself\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
  echo "install-etcd: installing etcd-server etcd-client"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server etcd-client >/dev/null
fi

# No service at boot, whichever init system this machine has.
if [ -d /run/systemd/system ]; then
  systemctl disable --now etcd.service >/dev/null 2>&1 || true
  systemctl mask etcd.service >/dev/null 2>&1 || true
else
  deb-systemd-helper disable etcd.service >/dev/null 2>&1 || true
fi
if [ -x /etc/init.d/etcd ] && command -v update-rc.d >/dev/null; then
  update-rc.d etcd disable >/dev/null 2>&1 || true
fi

version=$(etcd --version 2>/dev/null | sed -n 's/^etcd Version: //p')
case "$version" in
  3.4.*|3.5.*) ;;
  *) echo "install-etcd: etcd ${version:-missing}: orchestra needs etcd 3.4 or newer" >&2; exit 1 ;;
esac

# A system etcd listening beyond loopback would expose unauthenticated state: say so loudly.
if command -v ss >/dev/null; then
  exposed=$(ss -Hltnp 2>/dev/null | awk '/"etcd"/ && $4 !~ /^(127\.|\[::1\]|localhost)/ {print $4}')
  if [ -n "$exposed" ]; then
    echo "install-etcd: warning: an etcd outside orchestra listens on $exposed (not started by this script)" >&2
  fi
fi
echo "install-etcd: etcd $version"
