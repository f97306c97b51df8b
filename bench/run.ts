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
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { hmac } from "@noble/hashes/hmac.js";
import { sha384 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import { base64 } from "@scure/base";
import bcrypt from "bcryptjs";
import { type Api, call } from "./lib/http.ts";
import { cpuMsBetween, groupCpuTicks } from "./lib/proc.ts";
import { stopChild, waitHealthy } from "./lib/processes.ts";
import { fmt, fmtLoad, kib, median, percentile, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { HOST, MIN_BCRYPT_COST as MIN_COST, PASSWORD, POLICY_VERSION, ROOT } from "./lib/settings.ts";
import { timed } from "./lib/time.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "./lib/worker.ts";

// ---------------------------------------------------------------------------------------------
// Settings

const BCRYPT_RUNS = 5;
const CONCURRENCY = 8;
const ROUNDS = 3;
const ROUND_MS = 4000;
const WARMUP_MS = 1500;
const MAX_REQUESTS_PER_ROUND = 100_000;
const REQUEST_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// 1. Login CPU cost: exactly the pre-hash and bcryptjs calls of workers/domain/passwords.ts.

function readBcryptCost(): number {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const match = /^BCRYPT_COST\s*=\s*"?(\d+)"?/m.exec(toml);
  if (!match) throw new Error("BCRYPT_COST not found in wrangler.toml");
  return Number(match[1]);
}

const preHash = (password: string, pepper: Uint8Array) => base64.encode(hmac(sha384, pepper, utf8ToBytes(password.normalize("NFKC"))));

async function timeBcrypt(cost: number, runs: number) {
  const pepper = crypto.getRandomValues(new Uint8Array(32));
  const samples = { hashWall: [] as number[], hashCpu: [] as number[], compareWall: [] as number[], compareCpu: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const hash = await timed(() => bcrypt.hash(preHash(PASSWORD, pepper), cost));
    const compare = await timed(() => bcrypt.compare(preHash(PASSWORD, pepper), hash.value));
    if (!compare.value) throw new Error("bcrypt compare failed");
    samples.hashWall.push(hash.ms);
    samples.hashCpu.push(hash.cpuMs);
    samples.compareWall.push(compare.ms);
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

/** Serves `script` (the dry-run bundle, see bundle()) with `wrangler dev` and loads it. */
async function throughput(tmp: string, script: string) {
  const envFile = await writeEnvFile(tmp);
  const persist = await migrateLocalD1(tmp);
  // The exact bundle measured in section 3, not a fresh build of workers/.
  const { base, dev, startedAt: devStarted } = await startWranglerDev(tmp, script, persist, envFile);
  try {
    await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
    const startupS = (performance.now() - devStarted) / 1000;

    const id = crypto.randomUUID().slice(0, 8);
    const username = `bench${id}`;
    const api: Api = { base, timeoutMs: REQUEST_TIMEOUT_MS };
    const signup = await call(api, "POST", "/v1/auth/signup", { username, email: `bench-${id}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
    if (signup.status !== 202) throw new Error(`signup: ${signup.status} ${signup.text}`);
    const loginStarted = performance.now();
    const login = await call(api, "POST", "/v1/auth/login", { login: username, password: PASSWORD });
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
  const metafile = join(tmp, "meta.json");
  log("bundling (wrangler deploy --dry-run) …");
  const { outdir, output, files, entry } = await dryRunBundle(tmp, ["--metafile", metafile]);
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(join(outdir, file));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  // Largest contributors, grouped by package (or by top folder for the project's own code).
  const byOwner = new Map<string, number>();
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as Metafile;
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
  return { files, raw, gzip, top, wranglerLine, entry };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = performance.now();
  const tmp = makeTempDir("ozekai-bench-");
  const prodCost = readBcryptCost();
  const loadAtStart = loadavg();

  log(`bcrypt: ${BCRYPT_RUNS} runs at cost ${MIN_COST} and ${prodCost} …`);
  await timeBcrypt(MIN_COST, 1); // JIT warm-up
  const low = await timeBcrypt(MIN_COST, BCRYPT_RUNS);
  const prod = await timeBcrypt(prodCost, BCRYPT_RUNS);

  const size = await bundle(tmp);
  const tp = await throughput(tmp, size.entry);

  const out: string[] = [];
  out.push("", `Ozekai benchmark — node ${process.versions.node}, ${cpus().length} CPUs, load average at start ${fmtLoad(loadAtStart)}, ${new Date().toISOString()}`, "");

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
      `Load average ${fmtLoad(tp.loadBefore)} before, ${fmtLoad(loadavg())} after.)`,
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

await runBench("bench", main, 2000);
