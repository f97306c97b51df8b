#!/usr/bin/env bash
# Makes a Docker engine reachable for the provisioner (tests and local dev): installs Debian's
# docker.io, busybox-static and the disk tools the provisioner runs when missing (as root), starts
# dockerd when it is not running, and builds the catalog images this machine can (no registry is
# used): `minimal` (busybox) and `base` (Debian by debootstrap: needs root and Debian's mirror).
# Prints why when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

# The provisioner makes each workspace's disk with mkfs.ext4/e2fsck/resize2fs (e2fsprogs) and
# mount/umount/losetup (mount, util-linux), guards tenant networks with iptables, and compresses
# cold-storage stages with zstd.
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
[ -x /usr/bin/busybox ] || missing+=(busybox-static)
command -v mkfs.ext4 >/dev/null && command -v e2fsck >/dev/null && command -v resize2fs >/dev/null || missing+=(e2fsprogs)
command -v mount >/dev/null && command -v umount >/dev/null || missing+=(mount)
command -v losetup >/dev/null || missing+=(util-linux)
command -v iptables >/dev/null || missing+=(iptables)
command -v zstd >/dev/null || missing+=(zstd)
# The image build scripts are linted by provisioner/test/images.test.ts.
command -v shellcheck >/dev/null || missing+=(shellcheck)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-docker: installing ${missing[*]} from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: /tmp/ozekai-dockerd.log)"
  as_root bash -c 'nohup dockerd >/tmp/ozekai-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "ensure-docker: dockerd did not start; see /tmp/ozekai-dockerd.log" >&2; exit 1; }
fi

bash provisioner/scripts/build-workspace-image.sh
bash images/base/build.sh
