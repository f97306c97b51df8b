#!/usr/bin/env bash
# Builds the local workspace image `ozekai/workspace:local` without any image registry: a root fs
# made of Debian's static busybox (package busybox-static, /usr/bin/busybox) and its applet links,
# imported with `docker import`, with the unprivileged user sessions run as (`ozekai`, uid 1000,
# home /workspace: WORKSPACE_USER in provisioner/src/containers/spec.ts). Idempotent: does nothing
# when the image already exists and was built from the same busybox binary with that user (both
# kept as image labels).
#
#   bash provisioner/scripts/build-workspace-image.sh [IMAGE]      (default ozekai/workspace:local)
#   FORCE=1 ...                                                    rebuild even when up to date
set -euo pipefail

image="${1:-ozekai/workspace:local}"
busybox=/usr/bin/busybox

if ! docker info >/dev/null 2>&1; then
  echo "build-workspace-image: the Docker engine is not reachable (is dockerd running?)" >&2
  exit 1
fi

is_static() { [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; }
if ! is_static; then
  # Debian's busybox-static: a single static binary, so the image needs no libc.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build-workspace-image: installing busybox-static" >&2
    apt-get install -y --no-install-recommends busybox-static >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends busybox-static >/dev/null; }
  fi
  is_static || { echo "build-workspace-image: $busybox is missing or not static; install Debian's busybox-static" >&2; exit 1; }
fi

digest="$(sha256sum "$busybox" | cut -d' ' -f1)"
user="ozekai:1000:1000"
current="$(docker image inspect --format '{{ index .Config.Labels "ozekai.busybox-sha256" }} {{ index .Config.Labels "ozekai.workspace-user" }}' "$image" 2>/dev/null || true)"
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$digest $user" ]; then
  echo "build-workspace-image: $image is up to date"
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,workspace,tmp,proc,sys,dev}
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
# `busybox --install -s DIR` style: one symlink per applet, in the directory the applet belongs to.
"$busybox" --list-full | while read -r applet; do
  [ -e "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nozekai:x:1000:1000:ozekai:/workspace:/bin/sh\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nozekai:x:1000:\n' >"$rootfs/etc/group"

# Sorted, fixed owner and mtime: the same busybox gives the same layer.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00Z' -C "$rootfs" -cf - . |
  docker import \
    --change 'CMD ["sleep", "infinity"]' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root' \
    --change "LABEL ozekai.busybox-sha256=$digest" \
    --change "LABEL ozekai.workspace-user=$user" \
    - "$image" >/dev/null
echo "build-workspace-image: built $image"
