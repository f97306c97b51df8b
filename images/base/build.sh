#!/usr/bin/env bash
# Builds the `base` workspace image (workers/domain/plans/images.ts) without any image registry: a Debian root
# fs made by debootstrap from Debian's own packages, imported with `docker import`. It holds what a
# user expects to work in — Python 3 with pip and venv, git, curl, build tools, rsync — and an SSH
# server, with the unprivileged user sessions run as (`ozekai`, uid 1000, home /workspace:
# WORKSPACE_USER in provisioner/src/containers/spec.ts). The image has no SSH host keys: each
# workspace gets its own, kept in the workspace, so they are stable across sessions.
#
# Idempotent: does nothing when the image exists and was built from this script's package list
# (kept as an image label). Needs root (debootstrap), docker and Debian's mirror.
#
#   bash images/base/build.sh [IMAGE]          (default ozekai/base:local)
#   FORCE=1 ...                                rebuild even when up to date
#   DEBIAN_MIRROR=http://… ...                 another mirror (default deb.debian.org)
set -euo pipefail

image="${1:-ozekai/base:local}"
suite=bookworm
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
packages=(
  ca-certificates curl git less procps rsync openssh-server openssh-sftp-server
  python3 python3-pip python3-venv build-essential
)

if ! docker info >/dev/null 2>&1; then
  echo "build-base-image: the Docker engine is not reachable (is dockerd running?)" >&2
  exit 1
fi

# The label says which recipe built the image: a change to the list or the suite rebuilds it.
recipe="$(printf '%s\n' "$suite" "${packages[@]}" | sha256sum | cut -d' ' -f1)"
current="$(docker image inspect --format '{{ index .Config.Labels "ozekai.recipe-sha256" }}' "$image" 2>/dev/null || true)"
if [ "${FORCE:-0}" != 1 ] && [ "$current" = "$recipe" ]; then
  echo "build-base-image: $image is up to date"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build-base-image: installing debootstrap" >&2
    apt-get install -y --no-install-recommends debootstrap >/dev/null 2>&1 ||
      { apt-get update >/dev/null && apt-get install -y --no-install-recommends debootstrap >/dev/null; }
  fi
  command -v debootstrap >/dev/null || { echo "build-base-image: debootstrap is missing; install Debian's debootstrap" >&2; exit 1; }
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
echo "build-base-image: debootstrap $suite into $rootfs (a few minutes)" >&2
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 ||
  { tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; echo "build-base-image: debootstrap failed" >&2; exit 1; }
rm -f "$rootfs.log"

chroot "$rootfs" groupadd --gid 1000 ozekai
chroot "$rootfs" useradd --uid 1000 --gid 1000 --home-dir /workspace --no-create-home --shell /bin/bash ozekai
mkdir -p "$rootfs/workspace" && chown 1000:1000 "$rootfs/workspace"
# Host keys come from the workspace (see above); the package's keys would be the same in every session.
rm -f "$rootfs"/etc/ssh/ssh_host_*
# Nothing of the build is left behind: package lists and caches are re-fetched by apt when needed.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*

tar --numeric-owner --xattrs -C "$rootfs" -cf - . |
  docker import \
    --change 'CMD ["sleep", "infinity"]' \
    --change 'WORKDIR /workspace' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/workspace LANG=C.UTF-8' \
    --change "LABEL ozekai.recipe-sha256=$recipe" \
    --change "LABEL ozekai.workspace-user=ozekai:1000:1000" \
    - "$image" >/dev/null
echo "build-base-image: built $image"
