#!/usr/bin/env bash
# Makes Debian's Chromium available for the website's tests (playwright-core drives it; no browser
# is ever downloaded): installs the `chromium` package as root (or through sudo) when missing.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
echo "ensure-chromium: installing Debian's chromium"
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null || { echo "ensure-chromium: could not install chromium (needs root or sudo)" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "ensure-chromium: $CHROMIUM is still missing" >&2; exit 1; }
