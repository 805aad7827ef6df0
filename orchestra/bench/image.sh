#!/usr/bin/env bash
# Builds the image the container arms of `orchestra bench isolation` run in, from this machine's
# own Debian binaries and the shared libraries they load (no registry, no pull): bash, sysbench,
# ab (apache2-utils), GNU dd, gzip, seq, wc, busybox (httpd) and the static STREAM binary; then
# `docker import`. Runs the same on the host and inside a VM of the box. Does nothing if the
# image exists.
#
#   image.sh NAME STREAM_BINARY [DOCKER_HOST]
set -euo pipefail
name="$1"; stream="$2"; host="${3:-unix:///var/run/docker.sock}"
docker -H "$host" image inspect "$name" >/dev/null 2>&1 && exit 0
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,tmp,proc,sys,dev,etc}
chmod 1777 "$root/tmp"
for tool in bash sysbench ab dd gzip seq wc busybox; do
  path="$(command -v "$tool")" || { echo "image.sh: $tool is missing (apt-get install sysbench apache2-utils busybox-static)" >&2; exit 2; }
  cp -L "$path" "$root/bin/$tool"
  # Every library the binary loads (and the loader itself), at the path ldd resolved.
  for lib in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*' || true); do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
  done
done
cp "$stream" "$root/bin/stream"
chmod 755 "$root/bin/stream"
for applet in sh cat head tail tr rm mkdir sleep kill true; do ln -sf busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\n' > "$root/etc/group"
tar -C "$root" -c . | docker -H "$host" import --change 'ENV PATH=/bin' --change 'WORKDIR /tmp' - "$name" >/dev/null
echo "image.sh: imported $name"
