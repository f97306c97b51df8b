/**
 * `npm run bench:export`: a benchmark, not a test. The §7 export of an account with a heavy
 * history must stay within a Worker's memory and CPU limits: it is streamed (workers/domain/privacy/export.ts),
 * D1 a page at a time and the access log (R2, docs/decisions/0037-access-logs-queue-r2.md) an
 * object at a time, so the Worker's memory should not grow with the account's lines. One run
 * prints, for a user with BENCH_EXPORT_SMALL (default 10,000) and one with BENCH_EXPORT_LARGE
 * (default 100,000) access-log lines spread over BENCH_EXPORT_DAYS (default 90) days, every hour
 * of each (one compacted user-hour object each, as the hourly compaction leaves them):
 *   - the export through the Worker (the deployable bundle under `wrangler dev --local`, local D1
 *     and R2): wall time, lines/s, document size, and the peak RSS growth of wrangler + workerd;
 *   - the baseline, side by side in the same run: the same objects read straight from the local
 *     R2 (Miniflare in this process), every line held and serialized whole (what an export held in
 *     memory costs) — time and heap growth of this process;
 *   - the ratios: export time / baseline time, and memory growth large / small for both (a
 *     streamed export stays near 1× while the lines grow 10×; the whole-document baseline grows
 *     with them).
 * Each document is parsed and its access_logs lines counted: a wrong export fails the bench.
 * The lines and their index rows are seeded through Miniflare on the same local state, between
 * two runs of wrangler dev. Nothing but 127.0.0.1 is contacted; the temp dir (secrets, local
 * state, bundle) is removed at the end, also on error or Ctrl-C.
 */
import { dirname, join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { dayOf, slotPrefix, userBucket, userObjectKey } from "../schema/log-objects.ts";
import { type Api, expect } from "./lib/http.ts";
import { rssSampler } from "./lib/proc.ts";
import { stopChild, waitHealthy } from "./lib/processes.ts";
import { fmt, mib, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { PASSWORD, POLICY_VERSION, positiveInt, ROOT } from "./lib/settings.ts";
import { sleep } from "./lib/time.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "./lib/worker.ts";

const SMALL = positiveInt("BENCH_EXPORT_SMALL", 10_000);
const LARGE = positiveInt("BENCH_EXPORT_LARGE", 100_000);
const DAYS = positiveInt("BENCH_EXPORT_DAYS", 90);
const RSS_SAMPLE_MS = 25;
const EXPORT_TIMEOUT_MS = 600_000;
const HOUR_MS = 3_600_000;

interface Measured {
  ms: number;
  bytes: number;
  rows: number;
  memoryGrowth: number;
}

/** A signed-in user (signed up through the Worker); its id. */
async function signedUp(api: Api, username: string): Promise<{ user: Api; id: string }> {
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `${username}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  const login = await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD });
  const user: Api = { ...api, token: (login.json as { accessToken: string }).accessToken, timeoutMs: EXPORT_TIMEOUT_MS };
  const { id } = (await expect(user, "GET", "/v1/account", [200])).json as { id: string };
  return { user, id };
}

/** The local state wrangler dev keeps under `persist`, opened by Miniflare with the Worker's own bindings. */
function localState(script: string, persist: string) {
  const { modulesRules: _rules, rootPath: _root, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions as V4WorkerOptions;
  return new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: join(persist, "v3"),
      workers: [{ ...workerOptions, name: "ozekai", modules: true, scriptPath: script, modulesRoot: dirname(script) } as V4WorkerOptions],
    }),
  );
}

/** `lines` lines of `userId` over DAYS days, one object per hour, as the compaction leaves them, and their index rows. */
async function seedLines(mf: Miniflare, userId: string, lines: number): Promise<string[]> {
  const bucket = await mf.getR2Bucket("LOGS");
  const db = await mf.getD1Database("DB");
  const hours = DAYS * 24;
  const start = Math.floor(Date.now() / 86_400_000) * 86_400_000 - (DAYS - 1) * 86_400_000;
  const keys: string[] = [];
  const index = [];
  let seq = 0;
  for (let h = 0; h < hours; h++) {
    const count = Math.floor(lines / hours) + (h < lines % hours ? 1 : 0);
    if (count === 0) continue;
    const at = start + h * HOUR_MS;
    const key = userObjectKey(slotPrefix(dayOf(at), userBucket(userId), new Date(at).getUTCHours()), userId);
    const body = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        at: at + i * 1000,
        request_id: `bench-${userId}-${seq++}`,
        ip: `203.0.113.${i % 250}`,
        user_agent: "ozekai-bench/1.0 (x86_64; Linux)",
        method: "GET",
        path: "/v1/sessions/current",
        status: 200,
        duration_ms: 3 + (i % 40),
        user_id: userId,
      }),
    ).join("\n");
    await bucket.put(key, gzipSync(body));
    keys.push(key);
    index.push(db.prepare("insert into access_log_objects (user_id, day, key) values (?, ?, ?)").bind(userId, Date.parse(`${dayOf(at)}T00:00:00Z`), key));
  }
  for (let i = 0; i < index.length; i += 500) await db.batch(index.slice(i, i + 500));
  await db.prepare("update users set email_verified_at = ? where id = ?").bind(Date.now(), userId).run();
  return keys;
}

/** The baseline: the user's objects read straight from R2, every line held, serialized as one string. */
async function exportHeldWhole(mf: Miniflare, keys: string[]): Promise<Measured> {
  const bucket = await mf.getR2Bucket("LOGS");
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const started = performance.now();
  const lines: unknown[] = [];
  for (const key of keys) {
    const object = await bucket.get(key);
    const text = gunzipSync(Buffer.from(await object!.arrayBuffer())).toString("utf8");
    for (const line of text.split("\n")) lines.push(JSON.parse(line));
  }
  const text = JSON.stringify({ tables: { access_logs: lines } });
  const heapPeak = process.memoryUsage().heapUsed;
  const ms = performance.now() - started;
  return { ms, bytes: Buffer.byteLength(text), rows: lines.length, memoryGrowth: Math.max(0, heapPeak - before) };
}

/** GET /v1/privacy/export read to the end, with the Worker's RSS sampled meanwhile; the document is checked. */
async function exportThroughWorker(user: Api, pgid: number, expectedRows: number): Promise<Measured> {
  await sleep(500); // let the RSS settle after the start or the previous export
  const idle = rssSampler({ worker: pgid }, RSS_SAMPLE_MS).stop().worker!;
  const sampler = rssSampler({ worker: pgid }, RSS_SAMPLE_MS);
  const started = performance.now();
  const res = await fetch(`${user.base}/v1/privacy/export`, { headers: { Authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS) });
  const text = await res.text();
  const ms = performance.now() - started;
  const peak = sampler.stop().worker!;
  if (res.status !== 200) throw new Error(`export: ${res.status} ${text.slice(0, 500)}`);
  const doc = JSON.parse(text) as { tables: { access_logs: { request_id: string }[] } };
  const rows = doc.tables.access_logs.filter((line) => line.request_id.startsWith("bench-")).length;
  if (rows !== expectedRows) throw new Error(`export: ${rows} seeded access-log lines, expected ${expectedRows}`);
  return { ms, bytes: Buffer.byteLength(text), rows, memoryGrowth: Math.max(0, peak - idle) };
}

async function main() {
  if (LARGE <= SMALL) throw new Error("BENCH_EXPORT_LARGE must be larger than BENCH_EXPORT_SMALL");
  const tmp = makeTempDir("ozekai-bench-export-");
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry } = await dryRunBundle(tmp);
  const envFile = await writeEnvFile(tmp);
  const persist = await migrateLocalD1(tmp);
  const first = await startWranglerDev(tmp, entry, persist, envFile);
  const tag = Date.now().toString(36);
  let accounts: { name: string; rows: number; user: Api; id: string }[];
  try {
    await waitHealthy(`${first.base}/healthz`, first.dev, "wrangler dev");
    const api: Api = { base: first.base, timeoutMs: 30_000 };
    accounts = [
      { name: "small", rows: SMALL, ...(await signedUp(api, `bench-small-${tag}`)) },
      { name: "large", rows: LARGE, ...(await signedUp(api, `bench-large-${tag}`)) },
    ];
  } finally {
    await stopChild(first.dev.child);
  }
  const mf = localState(entry, persist);
  const baselines = new Map<string, Measured>();
  try {
    for (const a of accounts) {
      const started = Date.now();
      const keys = await seedLines(mf, a.id, a.rows);
      log(`seeded ${fmt(a.rows, 0)} access-log lines in ${fmt(keys.length, 0)} objects over ${DAYS} days for ${a.name} in ${fmt((Date.now() - started) / 1000)} s`);
      log(`reading ${a.name} straight from R2 …`);
      baselines.set(a.name, await exportHeldWhole(mf, keys));
    }
  } finally {
    await mf.dispose();
  }
  const { base, dev } = await startWranglerDev(tmp, entry, persist, envFile);
  try {
    await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
    const results = [];
    for (const a of accounts) {
      log(`exporting ${a.name} (${fmt(a.rows, 0)} lines) through the Worker …`);
      const worker = await exportThroughWorker({ ...a.user, base }, dev.child.pid!, a.rows);
      results.push({ ...a, worker, baseline: baselines.get(a.name)! });
    }

    const rowsOut = results.map((r) => [
      `${fmt(r.rows, 0)} lines`,
      `${fmt(r.worker.ms / 1000, 2)} s`,
      fmt(r.worker.rows / (r.worker.ms / 1000), 0),
      mib(r.worker.bytes),
      mib(r.worker.memoryGrowth),
      `${fmt(r.baseline.ms / 1000, 2)} s`,
      mib(r.baseline.memoryGrowth),
      `${fmt(r.worker.ms / r.baseline.ms, 1)}×`,
    ]);
    const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
    const growth = (m: (r: typeof small) => number) => (m(small) > 0 ? `${fmt(m(large) / m(small), 2)}×` : "n/a (no growth measured at the small size)");
    const out = [
      "",
      `Privacy export (GET /v1/privacy/export) of ${fmt(SMALL, 0)} and ${fmt(LARGE, 0)} access-log lines over ${DAYS} days (R2, one object a user-hour), side by side with the same objects read straight from R2 and held whole`,
      table(["account", "export time", "lines/s", "document", "Worker RSS growth", "baseline time", "baseline heap growth", "export / baseline time"], rowsOut),
      `Lines grow ${fmt(LARGE / SMALL, 1)}×, the document ${fmt(large.worker.bytes / small.worker.bytes, 1)}×.`,
      `Memory growth, large / small: Worker (streamed) ${growth((r) => r.worker.memoryGrowth)}; baseline (held whole) ${growth((r) => r.baseline.memoryGrowth)}.`,
      `Worker RSS growth during the large export: ${mib(large.worker.memoryGrowth)} — the Worker limit is 128 MiB per isolate; the document is ${mib(large.worker.bytes)}.`,
      "(Worker RSS = wrangler's Node process + workerd, which also hosts the local D1 and R2 and their caches; sampled every 25 ms.)",
    ];
    console.log(out.join("\n"));
  } finally {
    await stopChild(dev.child);
  }
}

await runBench("export", main, 5000);
