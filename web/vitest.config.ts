import { defineConfig } from "vitest/config";

// The website in a real Chromium (Debian's, never a downloaded browser) against the real Worker.
export default defineConfig({
  test: {
    include: ["web/test/**/*.test.ts"],
    globalSetup: ["web/test/global-setup.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // One browser, one server: files run one after another.
    fileParallelism: false,
  },
});
