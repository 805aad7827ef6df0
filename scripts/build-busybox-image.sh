#!/usr/bin/env bash
# Builds the tiny local image (default local/busybox:1) from Debian's busybox-static and
# imports it into a Docker engine with `docker import`. There is no registry here, so every
# image a test or demo runs must be made locally. Idempotent: does nothing if the image exists.
#
#   scripts/build-busybox-image.sh [DOCKER_HOST] [NAME]
#
# DOCKER_HOST defaults to $DOCKER_HOST or unix:///var/run/docker.sock.
set -euo pipefail

usage="usage: $0 [DOCKER_HOST] [NAME]   (default: \$DOCKER_HOST or unix:///var/run/docker.sock, local/busybox:1)"
if [ $# -gt 2 ]; then
  echo "build-busybox-image: too many arguments" >&2
  echo "$usage" >&2
  exit 2
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  echo "$usage"
  exit 0
fi

host="${1:-${DOCKER_HOST:-unix:///var/run/docker.sock}}"
name="${2:-local/busybox:1}"
busybox="${BUSYBOX:-/bin/busybox}"
# The applets workloads, tests and demos use; anything else can be reached as `busybox APPLET`.
applets="sh ash cat echo env false true sleep yes httpd ls ps id hostname wget nc head tail
  sed grep awk dd wc date kill mkdir rm cp mv touch printf seq test [ uname free top tee"

if ! command -v docker >/dev/null; then
  echo "build-busybox-image: the docker client is not installed (apt-get install docker.io)" >&2
  exit 2
fi
if [ ! -x "$busybox" ]; then
  echo "build-busybox-image: $busybox not found (apt-get install busybox-static)" >&2
  exit 2
fi
if ! docker -H "$host" version >/dev/null 2>&1; then
  echo "build-busybox-image: no Docker engine answers at $host" >&2
  exit 2
fi
if docker -H "$host" image inspect "$name" >/dev/null 2>&1; then
  echo "build-busybox-image: $name already present at $host"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,proc,sys,dev,www,root}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for a in $applets; do
  ln -sf busybox "$rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
echo 'hello from orchestra' >"$rootfs/www/index.html"

tar -C "$rootfs" -c . | docker -H "$host" import \
  --change 'ENV PATH=/bin' --change 'CMD ["sh"]' --change 'WORKDIR /' - "$name" >/dev/null
echo "build-busybox-image: imported $name into $host"
