/** The wrangler CLI, kept off the network and out of shared places, its state under a bench's temp dir. */
import { join } from "node:path";
import { startProcess, waitExit } from "./processes.ts";
import { ROOT } from "./settings.ts";
const WRANGLER = join(ROOT, "node_modules/wrangler/wrangler-dist/cli.js");

// Keep wrangler and miniflare off the network: no update check (banner), no metrics or error
// reports, no Request.cf download; and out of shared places (dev registry, log files).
const wranglerEnv = (tmp: string): Record<string, string | undefined> => ({
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  WRANGLER_HIDE_BANNER: "true",
  WRANGLER_WRITE_LOGS: "false",
  WRANGLER_REGISTRY_PATH: join(tmp, "registry"),
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  CLOUDFLARE_INCLUDE_PROCESS_ENV: undefined,
  NO_COLOR: "1",
  FORCE_COLOR: "0",
});

/** Starts `wrangler <args>` (see startProcess), its state under `tmp`. */
export const startWrangler = (args: string[], tmp: string) => startProcess(process.execPath, ["--no-warnings", WRANGLER, ...args], wranglerEnv(tmp));

/** Runs a wrangler command to completion (bounded in time); returns its output. */
export async function wrangler(args: string[], tmp: string, timeoutMs = 90_000): Promise<string> {
  const run = startWrangler(args, tmp);
  const code = await waitExit(run, timeoutMs);
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} exited with ${code ?? "a signal (timed out?)"}:\n${run.output.text.slice(-4000)}`);
  return run.output.text;
}
