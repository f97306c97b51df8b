#!/usr/bin/env node
// Plain JavaScript, so that an older Node says what it lacks instead of failing on the .ts files.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`ozekai needs Node.js 22.18 or newer (it runs its TypeScript through Node's type stripping); this is ${process.version}.\n`);
  process.exit(1);
}
// Stripping the types of every .ts file costs a third of a second or more on each start; Node's
// compile cache (in the OS temp dir, keyed by file content) keeps the result for the next run.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const { main } = await import("../src/main.ts");
await main(process.argv);
