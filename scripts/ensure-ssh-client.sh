#!/usr/bin/env bash
# Makes OpenSSH's client (ssh, scp, sftp, ssh-keygen) and rsync available for the CLI's SSH tests
# (cli/test/ssh.test.ts drives them through `ozekai proxy`): installs Debian's packages as root (or
# through sudo) when missing.
set -euo pipefail
missing=()
for tool in ssh scp ssh-keygen; do command -v "$tool" >/dev/null || { missing+=(openssh-client); break; }; done
command -v rsync >/dev/null || missing+=(rsync)
[ "${#missing[@]}" -eq 0 ] && exit 0
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
echo "ensure-ssh-client: installing ${missing[*]}"
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null || { echo "ensure-ssh-client: could not install ${missing[*]} (needs root or sudo)" >&2; exit 1; }
