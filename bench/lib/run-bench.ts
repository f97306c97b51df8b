/**
 * How a bench runs: its `main` through runBench, which names its log lines and, on every exit path
 * (the end, an error, SIGINT/SIGTERM), stops the child processes, runs the onCleanup hooks and
 * removes the temp dirs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killChildrenSync, liveChildren, stopChild } from "./processes.ts";
/** Log lines go to stderr as `[name] …`; runBench sets the name. */
let benchName = "bench";
export const log = (message: string) => console.error(`[${benchName}] ${message}`);

const tempDirs: string[] = [];
const cleanupHooks: (() => void)[] = [];

/** Runs `hook` (synchronous) at cleanup, after the child process groups are killed, before the temp dirs go. */
export function onCleanup(hook: () => void) {
  cleanupHooks.push(hook);
}

/** A new temp dir under the OS's, removed at cleanup. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

function cleanupSync() {
  killChildrenSync();
  for (const hook of cleanupHooks) hook();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * Runs a bench's `main` with its log lines named `[name]`: on failure, says so and exits 1; at the
 * end, on error and on SIGINT/SIGTERM (exit 130) stops every child (graceful first, bounded), then
 * cleans up.
 */
export async function runBench(name: string, main: () => Promise<void>, stopGraceMs: number) {
  benchName = name;
  let interrupted = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping …`);
      // Graceful first (so miniflare removes its files), bounded; then whatever is left, by force.
      void Promise.all(liveChildren().map((child) => stopChild(child, 3000))).finally(() => {
        cleanupSync();
        process.exit(130);
      });
    });
  }
  try {
    await main();
  } catch (error) {
    console.error(`[${name}] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  } finally {
    for (const child of liveChildren()) await stopChild(child, stopGraceMs);
    cleanupSync();
  }
}
