#!/usr/bin/env bash
# The whole test suite: typecheck, lint, the Worker's tests (real D1 inside workerd), the
# provisioner's tests (real Docker Engine, started and provisioned here when missing) and the
# CLI's (the `ozekai` command) and the website's (Debian's Chromium), both against the Worker under
# wrangler dev.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-install.sh || exit 1
export PATH="$PWD/node_modules/.bin:$PATH" # Node 22 from the `node` devDependency
node --version
bash scripts/ensure-docker.sh || exit 1
bash scripts/ensure-chromium.sh || exit 1
bash scripts/ensure-ssh-client.sh || exit 1
tsc -p . && tsc -p tsconfig.node.json && tsc -p provisioner && tsc -p client && tsc -p cli && tsc -p web && tsc -p web/tsconfig.test.json || exit 1
# wrangler serves the website from web/dist (wrangler.toml [assets]): every suite that starts it needs the build.
vite build web --logLevel warn || exit 1
biome lint || exit 1
status=0
vitest run "$@" || status=1
vitest run --config provisioner/vitest.config.ts --reporter=default --reporter=json --outputFile="$PWD/test-results.provisioner.json" || status=1
vitest run --config cli/vitest.config.ts --reporter=default --reporter=json --outputFile="$PWD/test-results.cli.json" || status=1
vitest run --config web/vitest.config.ts --reporter=default --reporter=json --outputFile="$PWD/test-results.web.json" || status=1
exit $status
