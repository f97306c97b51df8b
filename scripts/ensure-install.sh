#!/usr/bin/env bash
# Installs the pinned toolchain (Node 22 via the `node` devDependency, wrangler, workerd, …) when
# node_modules is missing or older than the lock file. Works from a machine with Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/vitest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
