import { defineConfig } from "vitest/config";

/**
 * The provisioner's tests run in Node against the real Docker Engine of this machine (no mocks):
 * `npx vitest run --config provisioner/vitest.config.ts` from the repository root, or
 * `npm test -w provisioner`.
 */
export default defineConfig({
  root: import.meta.dirname,
  test: {
    name: "provisioner",
    environment: "node",
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files share one dockerd; two at a time keeps a 2-core machine responsive.
    maxWorkers: 2,
  },
});
