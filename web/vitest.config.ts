import { defineConfig } from "vitest/config";

// The website in a real Chromium (Debian's, never a downloaded browser) against the real Worker,
// started by the same stack setup as the CLI's tests (the Worker under wrangler dev, fake Stripe).
export default defineConfig({
  root: new URL(".", import.meta.url).pathname,
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["../cli/test/global-setup.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 240_000,
    // One browser, one server: files run one after another.
    fileParallelism: false,
  },
});
