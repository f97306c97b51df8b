/**
 * What the benchmarks (bench/run.ts, sessions.ts, cold-storage.ts) share: settings, cleanup of everything they
 * start or make (process groups, temp dirs, and whatever a bench registers with onCleanup) on every
 * exit path, wrangler (kept off the network) and `wrangler dev` of the deployable bundle with
 * generated secrets, free ports, requests, /proc readings and output formatting.
 * A bench runs its `main` through runBench, which names its log lines and does the cleanup.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair } from "jose";

// ---------------------------------------------------------------------------------------------
// Settings

export const ROOT = new URL("../", import.meta.url).pathname;
export const HOST = "127.0.0.1";
export const MIN_BCRYPT_COST = 10; // workers/domain/config.ts: BCRYPT_COST ≥ 10
export const PASSWORD = "correct horse battery staple 42";
export const POLICY_VERSION = "2026-04-03";
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

/** Log lines go to stderr as `[name] …`; runBench sets the name. */
let benchName = "bench";
export const log = (message: string) => console.error(`[${benchName}] ${message}`);

// ---------------------------------------------------------------------------------------------
// Cleanup: every child process group and temp dir is registered here and undone on any exit path.

const children = new Set<ChildProcess>();
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

export function killGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL") {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own group (wrangler + workerd)
  } catch {
    // already gone
  }
}

export async function stopChild(child: ChildProcess, graceMs = 5000) {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    killGroup(child, "SIGTERM"); // graceful: miniflare removes its temp files (local emails) on exit
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // The group may outlive its leader (workerd); make sure nothing of it is left.
  killGroup(child, "SIGKILL");
  children.delete(child);
}

function cleanupSync() {
  for (const child of children) {
    killGroup(child, "SIGTERM");
    killGroup(child, "SIGKILL");
  }
  children.clear();
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
      void Promise.all([...children].map((child) => stopChild(child, 3000))).finally(() => {
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
    for (const child of [...children]) await stopChild(child, stopGraceMs);
    cleanupSync();
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
/** A load average (os.loadavg()) as "1.00 0.50 0.25". */
export const fmtLoad = (load: number[]) => load.map((l) => fmt(l, 2)).join(" ");
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function table(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Processes

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

export interface Started {
  child: ChildProcess;
  output: { text: string };
  exited: Promise<number | null>;
}

/** Starts `command args` in its own process group; output is kept (bounded) for error reports. */
export function startProcess(command: string, args: string[], env: Record<string, string | undefined>): Started {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const output = { text: "" };
  const decoder = new TextDecoder();
  const keep = (chunk: Uint8Array) => {
    output.text = (output.text + decoder.decode(chunk, { stream: true })).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (error) => {
      output.text += `\n(spawn failed: ${error.message})`;
      resolve(null);
    });
    child.on("exit", (code) => resolve(code));
  });
  return { child, output, exited };
}

/** Starts `wrangler <args>` (see startProcess), its state under `tmp`. */
const startWrangler = (args: string[], tmp: string) => startProcess(process.execPath, ["--no-warnings", WRANGLER, ...args], wranglerEnv(tmp));

/** Runs a wrangler command to completion (bounded in time); returns its output. */
export async function wrangler(args: string[], tmp: string, timeoutMs = 90_000): Promise<string> {
  const run = startWrangler(args, tmp);
  const timer = setTimeout(() => killGroup(run.child, "SIGKILL"), timeoutMs);
  const code = await run.exited.finally(() => clearTimeout(timer));
  children.delete(run.child);
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} exited with ${code ?? "a signal (timed out?)"}:\n${run.output.text.slice(-4000)}`);
  return run.output.text;
}

/** Polls `url` until it answers 200; fails when `started` exits first or after `timeoutMs`. */
export async function waitHealthy(url: string, started: Started, what: string, timeoutMs = 90_000) {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  while (performance.now() < deadline) {
    if (exited) throw new Error(`${what} exited early:\n${started.output.text.slice(-4000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${started.output.text.slice(-4000)}`);
}

/**
 * pid and the fields after "(comm)" of /proc/<pid>/stat (state ppid pgrp …; fields[2] is the
 * process group, fields[11..14] utime stime cutime cstime, fields 14–17 of proc(5)) of each live
 * process; undefined where there is no /proc (not Linux).
 */
export function procStats(): { pid: string; fields: string[] }[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  const stats: { pid: string; fields: string[] }[] = [];
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    stats.push({ pid, fields: stat.slice(stat.lastIndexOf(")") + 2).split(" ") });
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------
// The Worker under wrangler dev

/**
 * `wrangler deploy --dry-run` (plus `extraArgs`) into tmp/dist, the deployable bundle; its output,
 * its .js files and the entry script.
 */
export async function dryRunBundle(tmp: string, extraArgs: string[] = []) {
  const outdir = join(tmp, "dist");
  const output = await wrangler(["deploy", "--dry-run", "--outdir", outdir, ...extraArgs], tmp);
  const files = readdirSync(outdir).filter((f) => f.endsWith(".js") || f.endsWith(".mjs"));
  if (files.length === 0) throw new Error(`no .js in ${outdir}:\n${output.slice(-2000)}`);
  const entry = join(outdir, files.includes("index.js") ? "index.js" : files[0]!);
  return { outdir, output, files, entry };
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
 * minimum, plus `extraArgs` (say, `--test-scheduled`); `startedAt` is performance.now() just before the
 * start. Not ready yet: see waitHealthy.
 */
export async function startWranglerDev(tmp: string, script: string, persist: string, envFile: string, extraArgs: string[] = []) {
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
      join(ROOT, "wrangler.toml"),
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

// ---------------------------------------------------------------------------------------------
// Requests

export interface Api {
  base: string;
  token?: string;
  /** Per request. */
  timeoutMs: number;
}

/** One JSON request (with the bearer token, if any); the answer's status, text and parsed JSON (undefined if none). */
export async function call(api: Api, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (api.token) headers.Authorization = `Bearer ${api.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${api.base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(api.timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** call(), failing unless the status is one of `statuses`. */
export async function expect(api: Api, method: string, path: string, statuses: number[], body?: unknown) {
  const reply = await call(api, method, path, body);
  if (!statuses.includes(reply.status)) throw new Error(`${method} ${path}: ${reply.status} ${reply.text.slice(0, 500)}`);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// The session stack: the Worker bundle under wrangler dev, the provisioner, one bench user

export interface SessionStack {
  api: Api;
  userId: string;
  username: string;
  worker: Started;
  provisioner: Started;
  /** Seconds from the start of bundling to a signed-in, entitled user. */
  startupS: number;
}

/**
 * Bundles the Worker, starts the provisioner (local Docker; generated key pair, the provisioner
 * holding the public half only) and the Worker under `wrangler dev` on free 127.0.0.1 ports, then
 * signs up one user, verified and on `planId` (what an admin does locally: README), and signs in.
 * `env` lines go to the Worker's .dev.vars, `provisionerEnv` to the provisioner's environment.
 */
export async function startSessionStack(
  tmp: string,
  options: { username: string; planId: string; timeoutMs: number; env?: string[]; wranglerArgs?: string[]; provisionerEnv?: Record<string, string> },
): Promise<SessionStack> {
  const started = performance.now();
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry: script } = await dryRunBundle(tmp);
  const provisionerKey = await privateJwk("bench-provisioner");
  const { d: _private, ...provisionerPublic } = provisionerKey;
  const provisionerPort = await freePort();
  const envFile = await writeEnvFile(tmp, [`PROVISIONER_PRIVATE_KEY='${JSON.stringify(provisionerKey)}'`, `PROVISIONER_URL=http://${HOST}:${provisionerPort}`, ...(options.env ?? [])]);
  const persist = await migrateLocalD1(tmp);

  log(`starting the provisioner on http://${HOST}:${provisionerPort} …`);
  const provisioner = startProcess(process.execPath, ["--no-warnings", join(ROOT, "provisioner/src/main.ts")], {
    ...process.env,
    PORT: String(provisionerPort),
    PROVISIONER_PUBLIC_JWK: JSON.stringify(provisionerPublic),
    ...options.provisionerEnv,
  });
  const { base, dev: worker } = await startWranglerDev(tmp, script, persist, envFile, options.wranglerArgs);
  await waitHealthy(`http://${HOST}:${provisionerPort}/healthz`, provisioner, "the provisioner");
  await waitHealthy(`${base}/healthz`, worker, "wrangler dev");
  const startupS = (performance.now() - started) / 1000;

  const api: Api = { base, timeoutMs: options.timeoutMs };
  const { username, planId } = options;
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `${username}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--command", `UPDATE users SET plan_id = '${planId}', email_verified_at = ${Date.now()} WHERE username = '${username}'`], tmp);
  const login = await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD });
  api.token = (login.json as { accessToken: string }).accessToken;
  const account = (await expect(api, "GET", "/v1/account", [200])).json as { id: string; canStartSessions: boolean; restrictions: string[] };
  if (!account.canStartSessions) throw new Error(`the bench user cannot start sessions: ${account.restrictions.join(", ")}`);
  return { api, userId: account.id, username, worker, provisioner, startupS };
}
