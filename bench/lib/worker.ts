/**
 * The Worker as it would be deployed, served locally: its dry-run bundle, generated throwaway
 * secrets, a migrated local D1, and `wrangler dev` of that bundle on free 127.0.0.1 ports.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";
import { freePort, startProcess } from "./processes.ts";
import { log } from "./run-bench.ts";
import { HOST, MIN_BCRYPT_COST, ROOT } from "./settings.ts";
import { startWrangler, wrangler } from "./wrangler.ts";
/**
 * `wrangler deploy --dry-run` (plus `extraArgs`) into tmp/dist, the deployable bundle; its output,
 * its .js files and the entry script.
 */
export async function dryRunBundle(tmp: string, extraArgs: string[] = []) {
  buildWebsite();
  const outdir = join(tmp, "dist");
  const output = await wrangler(["deploy", "--dry-run", "--outdir", outdir, ...extraArgs], tmp);
  const files = readdirSync(outdir).filter((f) => f.endsWith(".js") || f.endsWith(".mjs"));
  if (files.length === 0) throw new Error(`no .js in ${outdir}:\n${output.slice(-2000)}`);
  const entry = join(outdir, files.includes("index.js") ? "index.js" : files[0]!);
  return { outdir, output, files, entry };
}

/** The website's build (web/dist), which wrangler.toml's [assets] names: wrangler refuses to start without it. */
export function buildWebsite() {
  const result = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", join(ROOT, "web"), "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`vite build web failed:\n${result.stderr || result.stdout}`);
}

/** A generated, throwaway Ed25519 private JWK. */
export async function privateJwk(kid: string) {
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  return { ...(await exportJWK(privateKey)), kid };
}

/**
 * Writes tmp/bench.env (mode 600) for `wrangler dev --env-file`: generated, throwaway Worker
 * secrets (access-token key and pepper, the shapes workers/domain/config.ts expects), then `extra`
 * lines; returns its path.
 */
export async function writeEnvFile(tmp: string, extra: string[] = []): Promise<string> {
  const accessKey = await privateJwk(`bench-${Date.now()}`);
  const pepper = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
  const envFile = join(tmp, "bench.env");
  const lines = [`ACCESS_TOKEN_KEYS='${JSON.stringify([accessKey])}'`, `PASSWORD_PEPPER=${pepper}`, ...extra, ""];
  writeFileSync(envFile, lines.join("\n"), { mode: 0o600 });
  return envFile;
}

/** Applies the migrations to a new local D1 under tmp; returns its --persist-to dir. */
export async function migrateLocalD1(tmp: string): Promise<string> {
  const persist = join(tmp, "state");
  log("applying migrations to a temporary local D1 …");
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], tmp);
  return persist;
}

/**
 * Serves `script` (the dryRunBundle entry) with `wrangler dev --local --no-bundle` on free
 * 127.0.0.1 ports, with the D1 at `persist`, the secrets of `envFile` and BCRYPT_COST at its
 * minimum, plus `extraArgs` (say, `--test-scheduled`), under `config` (the project's wrangler.toml
 * unless given); `startedAt` is performance.now() just before the start. Not ready yet: see waitHealthy.
 */
export async function startWranglerDev(tmp: string, script: string, persist: string, envFile: string, extraArgs: string[] = [], config = join(ROOT, "wrangler.toml")) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://${HOST}:${port}`;
  log(`starting wrangler dev on ${base} …`);
  const startedAt = performance.now();
  const dev = startWrangler(
    [
      "dev",
      // The bundle, not a fresh build of workers/: what would be deployed, and no reload when a
      // source file changes while the bench runs.
      script,
      "--no-bundle",
      "--config",
      config,
      "--local",
      "--ip",
      HOST,
      "--port",
      String(port),
      "--inspector-ip",
      HOST,
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persist,
      "--env-file",
      envFile,
      "--var",
      `BCRYPT_COST:${MIN_BCRYPT_COST}`,
      "--show-interactive-dev-session=false",
      "--live-reload=false",
      // Per-request "[wrangler:info] GET …" lines cost CPU in wrangler's Node process on every
      // request; the Worker's own cost is what is measured.
      "--log-level",
      "warn",
      ...extraArgs,
    ],
    tmp,
  );
  return { base, dev, startedAt };
}

/** Where a bench serves the Worker: `wrangler dev` (what `npm run dev` runs) or Miniflare's own server (workerd as production runs it, no proxy Worker). */
export type WorkerRuntime = "wrangler" | "miniflare";

/** BENCH_RUNTIMES (comma-separated, default both): the runtimes a bench measures side by side. */
export function benchRuntimes(): WorkerRuntime[] {
  const raw = (process.env.BENCH_RUNTIMES ?? "wrangler,miniflare").split(",").map((r) => r.trim()).filter(Boolean);
  for (const runtime of raw) if (runtime !== "wrangler" && runtime !== "miniflare") throw new Error(`BENCH_RUNTIMES: ${runtime} is neither wrangler nor miniflare`);
  return raw as WorkerRuntime[];
}

/** Serves `script` as startWranglerDev does (same D1, secrets, minimum BCRYPT_COST), under Miniflare's HTTP server (miniflare-serve.ts). */
export async function startMiniflare(script: string, persist: string, envFile: string, extra: { noAccessLog?: boolean } = {}) {
  const port = await freePort();
  const base = `http://${HOST}:${port}`;
  log(`starting the Worker under Miniflare on ${base}${extra.noAccessLog ? " (no access log)" : ""} …`);
  const startedAt = performance.now();
  const options = { script, persist, envFile, port, vars: { BCRYPT_COST: String(MIN_BCRYPT_COST) }, ...extra };
  const dev = startProcess(process.execPath, ["--no-warnings", join(ROOT, "bench/lib/miniflare-serve.ts"), JSON.stringify(options)], { ...process.env, NO_COLOR: "1" });
  return { base, dev, startedAt };
}
