import { defineConfig } from "vitest/config";

// The CLI's tests run in Node and start `ozekai` as a subprocess against one real Worker under
// `wrangler dev` (test/global-setup.ts), shared by every file.
export default defineConfig({
  // Paths below are cli/'s, whichever directory vitest is started from.
  root: new URL(".", import.meta.url).pathname,
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/global-setup.ts"],
    // One Worker and its per-IP sign-in limits for all files: one file at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 240_000,
  },
});
