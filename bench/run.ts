/**
 * `npm run bench`: a benchmark, not a test. One run prints
 *   1. login CPU cost: bcrypt hash and compare as workers/domain/passwords.ts does them (HMAC-SHA-384
 *      pre-hash under a pepper, then bcryptjs) at the production cost (wrangler.toml) and at cost 10;
 *   2. throughput: the deployable bundle of 3. served by `wrangler dev --local --no-bundle`
 *      (workerd, local D1 with the migrations applied) on a free 127.0.0.1 port; authenticated
 *      GET /v1/account against GET /healthz, interleaved rounds, req/s and server CPU per request;
 *   3. bundle size: `wrangler deploy --dry-run`, raw and gzipped, with the largest packages.
 * Nothing but 127.0.0.1 is contacted. Everything it starts or writes (a temp dir with generated
 * secrets, local D1 state and the dry-run bundle) is removed at the end, also on error or Ctrl-C.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha384 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import bcrypt from "bcryptjs";
import { exportJWK, generateKeyPair } from "jose";

// ---------------------------------------------------------------------------------------------
// Node built-ins, typed locally: the repo's tsconfig carries Worker types only (no @types/node).

interface Readable {
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
}
interface ChildProcess {
  pid?: number | undefined;
  exitCode: number | null;
  signalCode: string | null;
  stdout: Readable | null;
  stderr: Readable | null;
  on(event: "exit", listener: (code: number | null, signal: string | null) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}
interface ChildProcessApi {
  spawn(
    command: string,
    args: string[],
    options: { cwd: string; env: Record<string, string | undefined>; detached: boolean; stdio: ["ignore", "pipe", "pipe"] },
  ): ChildProcess;
}
interface FsApi {
  mkdtempSync(prefix: string): string;
  rmSync(path: string, options: { recursive: boolean; force: boolean }): void;
  writeFileSync(path: string, data: string, options: { mode: number }): void;
  readFileSync(path: string): Uint8Array;
  readFileSync(path: string, encoding: "utf8"): string;
  readdirSync(path: string): string[];
}
interface NetServer {
  listen(port: number, host: string, callback: () => void): unknown;
  address(): { port: number } | string | null;
  close(callback: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

const builtin = <T>(id: string) => process.getBuiltinModule(id) as T;
const { spawn } = builtin<ChildProcessApi>("node:child_process");
const fs = builtin<FsApi>("node:fs");
const { tmpdir, cpus, loadavg } = builtin<{ tmpdir(): string; cpus(): unknown[]; loadavg(): number[] }>("node:os");
const { join } = builtin<{ join(...parts: string[]): string }>("node:path");
const { gzipSync } = builtin<{ gzipSync(data: Uint8Array): Uint8Array }>("node:zlib");
const { createServer } = builtin<{ createServer(): NetServer }>("node:net");

// ---------------------------------------------------------------------------------------------
// Settings

const ROOT = new URL("../", import.meta.url).pathname;
const WRANGLER = join(ROOT, "node_modules/wrangler/wrangler-dist/cli.js");
const HOST = "127.0.0.1";
const MIN_COST = 10; // workers/domain/config.ts: BCRYPT_COST ≥ 10
const BCRYPT_RUNS = 5;
const CONCURRENCY = 8;
const ROUNDS = 3;
const ROUND_MS = 4000;
const WARMUP_MS = 1500;
const MAX_REQUESTS_PER_ROUND = 100_000;
const REQUEST_TIMEOUT_MS = 10_000;
const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ, the unit of utime/stime in /proc/<pid>/stat
const PASSWORD = "correct horse battery staple 42";
const POLICY_VERSION = "2026-04-03";

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

// ---------------------------------------------------------------------------------------------
// Cleanup: every child process group and temp dir is registered here and undone on any exit path.

const children = new Set<ChildProcess>();
const tempDirs: string[] = [];

function killGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL") {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own group (wrangler + workerd)
  } catch {
    // already gone
  }
}

async function stopChild(child: ChildProcess, graceMs = 5000) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
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
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

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

// ---------------------------------------------------------------------------------------------
// Helpers

const log = (message: string) => console.error(`[bench] ${message}`);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kib = (bytes: number) => `${fmt(bytes / 1024)} KiB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function table(headers: string[], rows: string[][]) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function readBcryptCost(): number {
  const toml = fs.readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const match = /^BCRYPT_COST\s*=\s*"?(\d+)"?/m.exec(toml);
  if (!match) throw new Error("BCRYPT_COST not found in wrangler.toml");
  return Number(match[1]);
}

function freePort(): Promise<number> {
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

/**
 * CPU ticks used so far by each live process of a process group (wrangler's Node process and its
 * workerd processes), from /proc; undefined where there is no /proc (not Linux). A process's own
 * time plus that of its reaped children, so a workerd that exits (and is reaped) is still counted.
 */
function groupCpuTicks(pgid: number): Map<string, number> | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return undefined;
  }
  const ticks = new Map<string, number>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after "(comm)": state ppid pgrp … utime stime cutime cstime (fields 14–17 of proc(5)).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    ticks.set(entry, Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]));
  }
  return ticks;
}

/** CPU ms the group used between two snapshots (new processes count whole; each term is ≥ 0). */
function cpuMsBetween(before: Map<string, number>, after: Map<string, number>) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += Math.max(0, t - (before.get(pid) ?? 0));
  return (ticks * 1000) / CLOCK_TICKS_PER_S;
}

/** Starts `wrangler <args>` in its own process group; output is kept (bounded) for error reports. */
function startWrangler(args: string[], tmp: string) {
  const child = spawn(process.execPath, ["--no-warnings", WRANGLER, ...args], { cwd: ROOT, env: wranglerEnv(tmp), detached: true, stdio: ["ignore", "pipe", "pipe"] });
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

/** Runs a wrangler command to completion (bounded in time); returns its output. */
async function wrangler(args: string[], tmp: string, timeoutMs = 90_000): Promise<string> {
  const run = startWrangler(args, tmp);
  const timer = setTimeout(() => killGroup(run.child, "SIGKILL"), timeoutMs);
  const code = await run.exited.finally(() => clearTimeout(timer));
  children.delete(run.child);
  if (code !== 0) throw new Error(`wrangler ${args.join(" ")} exited with ${code ?? "a signal (timed out?)"}:\n${run.output.text.slice(-4000)}`);
  return run.output.text;
}

// ---------------------------------------------------------------------------------------------
// 1. Login CPU cost: exactly the pre-hash and bcryptjs calls of workers/domain/passwords.ts.

const preHash = (password: string, pepper: Uint8Array) => base64.encode(hmac(sha384, pepper, utf8ToBytes(password.normalize("NFKC"))));

/** Wall and CPU time (ms) of one call; CPU (this process) is what a busy machine distorts least. */
async function timed<T>(fn: () => Promise<T>) {
  const wall = performance.now();
  const cpu = process.cpuUsage() as { user: number; system: number };
  const value = await fn();
  const used = process.cpuUsage(cpu) as { user: number; system: number };
  return { value, wallMs: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
}

async function timeBcrypt(cost: number, runs: number) {
  const pepper = crypto.getRandomValues(new Uint8Array(32));
  const samples = { hashWall: [] as number[], hashCpu: [] as number[], compareWall: [] as number[], compareCpu: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const hash = await timed(() => bcrypt.hash(preHash(PASSWORD, pepper), cost));
    const compare = await timed(() => bcrypt.compare(preHash(PASSWORD, pepper), hash.value));
    if (!compare.value) throw new Error("bcrypt compare failed");
    samples.hashWall.push(hash.wallMs);
    samples.hashCpu.push(hash.cpuMs);
    samples.compareWall.push(compare.wallMs);
    samples.compareCpu.push(compare.cpuMs);
  }
  return {
    cost,
    hashWall: median(samples.hashWall),
    hashCpu: median(samples.hashCpu),
    compareWall: median(samples.compareWall),
    compareCpu: median(samples.compareCpu),
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Throughput

interface LoadResult {
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU (wrangler + workerd) per successful request, ms; undefined without /proc. */
  cpuPerRequest?: number | undefined;
}

/** Closed loop: CONCURRENCY clients send back to back until the time or request bound is hit. */
async function load(url: string, headers: Record<string, string>, durationMs: number, serverPgid?: number): Promise<LoadResult> {
  const cpuBefore = serverPgid === undefined ? undefined : groupCpuTicks(serverPgid);
  let issued = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + durationMs;
  const client = async () => {
    while (issued < MAX_REQUESTS_PER_ROUND && performance.now() < deadline) {
      issued++;
      const t = performance.now();
      try {
        const res = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const body = await res.text();
        if (res.status === 200) {
          ok++;
          latencies.push(performance.now() - t);
        } else {
          errors++;
          firstError ??= `${res.status} ${body.slice(0, 200)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const seconds = (performance.now() - start) / 1000;
  const cpuAfter = serverPgid === undefined ? undefined : groupCpuTicks(serverPgid);
  const cpuPerRequest = cpuBefore && cpuAfter && ok > 0 ? cpuMsBetween(cpuBefore, cpuAfter) / ok : undefined;
  latencies.sort((a, b) => a - b);
  return { ok, errors, firstError, seconds, rps: ok / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerRequest };
}

async function waitReady(base: string, dev: ReturnType<typeof startWrangler>, timeoutMs = 90_000) {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void dev.exited.then(() => {
    exited = true;
  });
  while (performance.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited early:\n${dev.output.text.slice(-4000)}`);
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`wrangler dev not ready after ${timeoutMs} ms:\n${dev.output.text.slice(-4000)}`);
}

async function postJson(url: string, body: unknown) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** Serves `script` (the dry-run bundle, see bundle()) with `wrangler dev` and loads it. */
async function throughput(tmp: string, script: string) {
  // Generated, throwaway secrets (the shapes workers/domain/config.ts expects).
  const { privateKey } = await generateKeyPair("EdDSA", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: `bench-${Date.now()}` };
  const pepper = base64.encode(crypto.getRandomValues(new Uint8Array(32)));
  const envFile = join(tmp, "bench.env");
  fs.writeFileSync(envFile, `ACCESS_TOKEN_KEYS='${JSON.stringify([jwk])}'\nPASSWORD_PEPPER=${pepper}\n`, { mode: 0o600 });

  const persist = join(tmp, "state");
  log("applying migrations to a temporary local D1 …");
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], tmp);

  const port = await freePort();
  const inspectorPort = await freePort();
  const base = `http://${HOST}:${port}`;
  log(`starting wrangler dev on ${base} …`);
  const devStarted = performance.now();
  const dev = startWrangler(
    [
      "dev",
      // The exact bundle measured in section 3, not a fresh build of workers/: what would be
      // deployed, and no reload when a source file changes while the bench runs.
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
      `BCRYPT_COST:${MIN_COST}`,
      "--show-interactive-dev-session=false",
      "--live-reload=false",
      // Per-request "[wrangler:info] GET …" lines cost CPU in wrangler's Node process on every
      // request; the Worker's own cost is what is measured here.
      "--log-level",
      "warn",
    ],
    tmp,
  );
  try {
    await waitReady(base, dev);
    const startupS = (performance.now() - devStarted) / 1000;

    const id = crypto.randomUUID().slice(0, 8);
    const username = `bench${id}`;
    const signup = await postJson(`${base}/v1/auth/signup`, { username, email: `bench-${id}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
    if (signup.status !== 202) throw new Error(`signup: ${signup.status} ${signup.text}`);
    const loginStarted = performance.now();
    const login = await postJson(`${base}/v1/auth/login`, { login: username, password: PASSWORD });
    const loginMs = performance.now() - loginStarted;
    if (login.status !== 200) throw new Error(`login: ${login.status} ${login.text}`);
    const { accessToken } = JSON.parse(login.text) as { accessToken: string };

    const endpoints = {
      healthz: { url: `${base}/healthz`, headers: {} as Record<string, string> },
      account: { url: `${base}/v1/account`, headers: { Authorization: `Bearer ${accessToken}` } },
    };
    type Name = keyof typeof endpoints;

    log(`warming up (${WARMUP_MS} ms each) …`);
    for (const name of ["healthz", "account"] as Name[]) {
      const warm = await load(endpoints[name].url, endpoints[name].headers, WARMUP_MS);
      if (warm.ok === 0) throw new Error(`${name}: no successful request during warm-up (${warm.firstError})`);
    }

    const loadBefore = loadavg();
    const rounds: Record<Name, LoadResult>[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which endpoint goes first so neither always runs on the "fresher" machine.
      const order: Name[] = round % 2 ? ["healthz", "account"] : ["account", "healthz"];
      const results = {} as Record<Name, LoadResult>;
      for (const name of order) {
        log(`round ${round}/${ROUNDS}: ${name} for ${ROUND_MS} ms …`);
        results[name] = await load(endpoints[name].url, endpoints[name].headers, ROUND_MS, dev.child.pid);
      }
      rounds.push(results);
    }
    return { startupS, loginMs, rounds, loadBefore };
  } finally {
    await stopChild(dev.child);
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Bundle size

interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

async function bundle(tmp: string) {
  const outdir = join(tmp, "dist");
  const metafile = join(tmp, "meta.json");
  log("bundling (wrangler deploy --dry-run) …");
  const output = await wrangler(["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile], tmp);
  const files = fs.readdirSync(outdir).filter((f) => f.endsWith(".js") || f.endsWith(".mjs"));
  if (files.length === 0) throw new Error(`no .js in ${outdir}:\n${output.slice(-2000)}`);
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = fs.readFileSync(join(outdir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  // Largest contributors, grouped by package (or by top folder for the project's own code).
  const byOwner = new Map<string, number>();
  const meta = JSON.parse(fs.readFileSync(metafile, "utf8")) as Metafile;
  for (const [out, info] of Object.entries(meta.outputs)) {
    if (out.endsWith(".map")) continue;
    for (const [input, { bytesInOutput }] of Object.entries(info.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
      const owner = pkg ?? (input.includes(":") ? "(wrangler/runtime shims)" : `./${input.replace(/^(\.\.\/)+/, "").split("/")[0]}`);
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + bytesInOutput);
    }
  }
  const top = [...byOwner.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6);
  const wranglerLine = /Total Upload:.*$/m.exec(output)?.[0];
  const entry = join(outdir, files.includes("index.js") ? "index.js" : files[0]!);
  return { files, raw, gzip, top, wranglerLine, entry };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = performance.now();
  const tmp = fs.mkdtempSync(join(tmpdir(), "ozekai-bench-"));
  tempDirs.push(tmp);
  const prodCost = readBcryptCost();
  const loadAtStart = loadavg();

  log(`bcrypt: ${BCRYPT_RUNS} runs at cost ${MIN_COST} and ${prodCost} …`);
  await timeBcrypt(MIN_COST, 1); // JIT warm-up
  const low = await timeBcrypt(MIN_COST, BCRYPT_RUNS);
  const prod = await timeBcrypt(prodCost, BCRYPT_RUNS);

  const size = await bundle(tmp);
  const tp = await throughput(tmp, size.entry);

  const out: string[] = [];
  out.push("", `Ozekai benchmark — node ${process.versions.node}, ${cpus().length} CPUs, load average at start ${loadAtStart.map((l) => fmt(l, 2)).join(" ")}, ${new Date().toISOString()}`, "");

  out.push(`1. Login CPU cost (bcryptjs + HMAC-SHA-384 pre-hash as in passwords.ts; median of ${BCRYPT_RUNS}, in Node; wall / CPU ms)`);
  out.push(
    table(
      ["bcrypt cost", "hash (signup) ms", "compare (login) ms", "logins / CPU-s"],
      [low, prod].map((r) => [
        `${r.cost}${r.cost === prodCost ? " (wrangler.toml)" : " (minimum)"}`,
        `${fmt(r.hashWall)} / ${fmt(r.hashCpu)}`,
        `${fmt(r.compareWall)} / ${fmt(r.compareCpu)}`,
        fmt(1000 / r.compareCpu),
      ]),
    ),
  );
  out.push(
    `ratio cost ${prodCost} / cost ${MIN_COST} (CPU): compare ${fmt(prod.compareCpu / low.compareCpu, 2)}×, hash ${fmt(prod.hashCpu / low.hashCpu, 2)}× ` +
      `(wall: ${fmt(prod.compareWall / low.compareWall, 2)}×, ${fmt(prod.hashWall / low.hashWall, 2)}×; theory ${2 ** (prodCost - MIN_COST)}×)`,
    "",
  );

  out.push(`2. Throughput (the bundle of 3. under wrangler dev --local --no-bundle: workerd + local D1, ${HOST}; ${CONCURRENCY} concurrent clients, ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s)`);
  const cpu = (x: LoadResult) => (x.cpuPerRequest === undefined ? "n/a" : fmt(x.cpuPerRequest, 2));
  const cpuRatio = (a?: number, h?: number) => (a === undefined || h === undefined ? "n/a" : `${fmt(a / h, 2)}×`);
  const rows: string[][] = [];
  tp.rounds.forEach((r, i) => {
    for (const name of ["healthz", "account"] as const) {
      const x = r[name];
      rows.push([`round ${i + 1}`, name === "healthz" ? "GET /healthz" : "GET /v1/account", String(x.ok), String(x.errors), fmt(x.rps), fmt(x.p50), fmt(x.p99), cpu(x)]);
    }
    rows.push([`round ${i + 1}`, "ratio account/healthz", "", "", fmt(r.account.rps / r.healthz.rps, 2), "", "", cpuRatio(r.account.cpuPerRequest, r.healthz.cpuPerRequest)]);
  });
  const med = (name: "healthz" | "account", pick: (x: LoadResult) => number | undefined) => {
    const values = tp.rounds.map((r) => pick(r[name])).filter((v): v is number => v !== undefined);
    return values.length ? median(values) : undefined;
  };
  const [hRps, aRps] = [med("healthz", (x) => x.rps)!, med("account", (x) => x.rps)!];
  const [hCpu, aCpu] = [med("healthz", (x) => x.cpuPerRequest), med("account", (x) => x.cpuPerRequest)];
  const show = (v: number | undefined) => (v === undefined ? "n/a" : fmt(v, 2));
  rows.push(["median", "GET /healthz", "", "", fmt(hRps), "", "", show(hCpu)]);
  rows.push(["median", "GET /v1/account", "", "", fmt(aRps), "", "", show(aCpu)]);
  rows.push(["median", "ratio account/healthz", "", "", fmt(aRps / hRps, 2), "", "", cpuRatio(aCpu, hCpu)]);
  out.push(table(["round", "endpoint", "ok", "errors", "req/s", "p50 ms", "p99 ms", "server CPU ms/req"], rows));
  out.push(
    `(server CPU = wrangler + workerd processes, from /proc; less sensitive than req/s to other load on the machine. ` +
      `Load average ${tp.loadBefore.map((l) => fmt(l, 2)).join(" ")} before, ${loadavg().map((l) => fmt(l, 2)).join(" ")} after.)`,
  );
  out.push(`(wrangler dev ready in ${fmt(tp.startupS)} s; one login at cost ${MIN_COST} inside workerd took ${fmt(tp.loginMs)} ms end to end)`);
  for (const [i, r] of tp.rounds.entries()) {
    for (const name of ["healthz", "account"] as const) {
      if (r[name].errors) out.push(`! round ${i + 1} ${name}: ${r[name].errors} errors, first: ${r[name].firstError}`);
    }
  }
  out.push("");

  out.push("3. Bundle size (wrangler deploy --dry-run)");
  out.push(
    table(
      ["output", "raw", "gzip (zlib default)"],
      [[size.files.join(", "), kib(size.raw), kib(size.gzip)]],
    ),
  );
  if (size.wranglerLine) out.push(`wrangler says: ${size.wranglerLine}`);
  out.push("largest contributors (bytes in the unminified output):");
  out.push(table(["package / folder", "size", "share"], size.top.map(([owner, bytes]) => [owner, kib(bytes), `${fmt((100 * bytes) / size.raw)} %`])));
  out.push("", `total bench time ${fmt((performance.now() - startedAt) / 1000)} s`);
  console.log(out.join("\n"));
}

try {
  await main();
} catch (error) {
  console.error(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const child of [...children]) await stopChild(child, 2000);
  cleanupSync();
}
