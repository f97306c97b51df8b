#!/usr/bin/env bash
# The whole test suite: typecheck, lint, then every vitest test (real D1 inside workerd).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-install.sh
export PATH="$PWD/node_modules/.bin:$PATH" # Node 22 from the `node` devDependency
node --version
tsc -p . && tsc -p tsconfig.node.json
biome lint
vitest run "$@"
