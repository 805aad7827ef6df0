#!/usr/bin/env bash
# Installs what orchestra needs on a fresh Debian 12 machine (run as root), idempotently:
# Docker engine, busybox-static (for the local test image), and orchestra itself with its
# test extras. With --vm, also what the VM tier needs (QEMU, libvirt, Vagrant); with --browser,
# what the web UI's browser tests need (Debian's chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
bash scripts/install-etcd.sh   # etcd store backend: its tests start their own members on 127.0.0.1

# Always (re)install this checkout: another clone may be the one installed, and pip is quick
# when nothing changed.
echo "setup: installing orchestra from $(pwd) (pip install -e .[test])"
PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q --disable-pip-version-check -e '.[test]'
python3 -c 'import orchestra.api.agent_pb2, numpy, grpc, docker, pytest, xdist, prometheus_client, playwright'

for arg in "$@"; do
  case "$arg" in
    --vm) bash scripts/install-vm-deps.sh ;;
    --browser) bash scripts/install-browser.sh ;;
    *) echo "setup: unknown option $arg (known: --vm, --browser)" >&2; exit 2 ;;
  esac
done
