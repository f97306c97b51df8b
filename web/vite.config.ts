import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { xtermUnderCsp } from "./xterm-under-csp.ts";

// The website, built into web/dist and served by the Worker through Workers Static Assets
// (wrangler.toml [assets]). JSX compiles for Preact; everything the page loads is our own file.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [xtermUnderCsp()],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // A CSP without 'unsafe-inline': no inlined scripts or styles, and no data: module preloads.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
