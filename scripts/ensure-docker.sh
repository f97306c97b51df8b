#!/usr/bin/env bash
# Makes a Docker engine reachable for the provisioner (tests and local dev): installs Debian's
# docker.io and busybox-static when missing (as root), starts dockerd when it is not running, and
# builds the local workspace image (no registry is used). Prints why when it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

if ! command -v dockerd >/dev/null || [ ! -x /usr/bin/busybox ]; then
  echo "ensure-docker: installing docker.io and busybox-static from Debian's packages"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io busybox-static >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "ensure-docker: starting dockerd (log: /tmp/ozekai-dockerd.log)"
  as_root bash -c 'nohup dockerd >/tmp/ozekai-dockerd.log 2>&1 &'
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "ensure-docker: dockerd did not start; see /tmp/ozekai-dockerd.log" >&2; exit 1; }
fi

bash provisioner/scripts/build-workspace-image.sh
