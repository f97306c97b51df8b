/**
 * `npm run bench:export`: a benchmark, not a test. The §7 export of an account with a heavy
 * history must stay within a Worker's memory and CPU limits: it is streamed a page at a time
 * (workers/domain/privacy/export.ts), so the Worker's memory should not grow with the account's
 * rows. One run prints, for a user with BENCH_EXPORT_SMALL (default 10,000) and one with
 * BENCH_EXPORT_LARGE (default 100,000) access-log rows:
 *   - the export through the Worker (the deployable bundle under `wrangler dev --local`, local D1):
 *     wall time, rows/s, document size, and the peak RSS growth of wrangler + workerd during it;
 *   - the baseline, side by side in the same run: the same rows read straight from the local D1's
 *     SQLite file with node:sqlite and serialized whole (what an export held in memory costs) —
 *     time and heap growth of this process;
 *   - the ratios: export time / baseline time, and memory growth large / small for both (a
 *     streamed export stays near 1× while the rows grow 10×; the whole-document baseline grows
 *     with them).
 * Each document is parsed and its access_logs rows counted: a wrong export fails the bench.
 * Rows are seeded by one INSERT … WITH RECURSIVE per user (a single `wrangler d1 execute`).
 * Nothing but 127.0.0.1 is contacted; the temp dir (secrets, local D1, bundle) is removed at the
 * end, also on error or Ctrl-C.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { type Api, expect } from "./lib/http.ts";
import { rssSampler } from "./lib/proc.ts";
import { stopChild, waitHealthy } from "./lib/processes.ts";
import { fmt, mib, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { PASSWORD, POLICY_VERSION, positiveInt } from "./lib/settings.ts";
import { sleep } from "./lib/time.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "./lib/worker.ts";
import { wrangler } from "./lib/wrangler.ts";

const SMALL = positiveInt("BENCH_EXPORT_SMALL", 10_000);
const LARGE = positiveInt("BENCH_EXPORT_LARGE", 100_000);
const RSS_SAMPLE_MS = 25;
const EXPORT_TIMEOUT_MS = 600_000;

interface Measured {
  ms: number;
  bytes: number;
  rows: number;
  memoryGrowth: number;
}

/** A verified, signed-in user (what an admin does locally: README) with `rows` access-log rows of its own. */
async function seededUser(api: Api, tmp: string, persist: string, username: string, rows: number): Promise<Api> {
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `${username}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  const login = await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD });
  const user: Api = { ...api, token: (login.json as { accessToken: string }).accessToken };
  const { id } = (await expect(user, "GET", "/v1/account", [200])).json as { id: string };
  // A day and more of requests a second apart, inside the 90 days the retention job keeps.
  const start = Date.now() - rows * 1000;
  const sql = `UPDATE users SET email_verified_at = ${Date.now()} WHERE id = '${id}';
    INSERT INTO access_logs (at, request_id, ip, user_agent, method, path, status, duration_ms, user_id)
    WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${rows})
    SELECT ${start} + i * 1000, 'bench-${username}-' || i, '203.0.113.' || (i % 250), 'ozekai-bench/1.0 (x86_64; Linux)',
           'GET', '/v1/sessions/current', 200, 3 + i % 40, '${id}' FROM seq;`;
  const started = Date.now();
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--command", sql], tmp, 300_000);
  log(`seeded ${fmt(rows, 0)} access-log rows for ${username} in ${fmt((Date.now() - started) / 1000)} s`);
  return { ...user, timeoutMs: EXPORT_TIMEOUT_MS };
}

/** GET /v1/privacy/export read to the end, with the Worker's RSS sampled meanwhile; the document is checked. */
async function exportThroughWorker(user: Api, pgid: number, expectedRows: number): Promise<Measured> {
  await sleep(500); // let the RSS settle after the seeding or the previous export
  const idle = rssSampler({ worker: pgid }, RSS_SAMPLE_MS).stop().worker!;
  const sampler = rssSampler({ worker: pgid }, RSS_SAMPLE_MS);
  const started = performance.now();
  const res = await fetch(`${user.base}/v1/privacy/export`, { headers: { Authorization: `Bearer ${user.token}` }, signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS) });
  const text = await res.text();
  const ms = performance.now() - started;
  const peak = sampler.stop().worker!;
  if (res.status !== 200) throw new Error(`export: ${res.status} ${text.slice(0, 500)}`);
  const doc = JSON.parse(text) as { tables: { access_logs: unknown[] } };
  // Its own requests (sign-up, sign-in, the account view) are logged too.
  const rows = doc.tables.access_logs.length;
  if (rows < expectedRows) throw new Error(`export: ${rows} access-log rows, expected at least ${expectedRows}`);
  return { ms, bytes: Buffer.byteLength(text), rows, memoryGrowth: Math.max(0, peak - idle) };
}

/** The local D1's SQLite file under `persist` (miniflare keeps one file per database). */
function localD1File(persist: string): string {
  const dir = join(persist, "v3", "d1", "miniflare-D1DatabaseObject");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sqlite") && f !== "metadata.sqlite");
  if (files.length !== 1) throw new Error(`expected one local D1 file in ${dir}, found ${files.join(", ") || "none"}`);
  return join(dir, files[0]!);
}

/** The baseline: the same user's access-log rows read straight from SQLite and serialized as one string. */
function exportHeldWhole(file: string, userId: string): Measured {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    const rows = db.prepare("select * from access_logs where user_id = ? order by rowid").all(userId);
    const text = JSON.stringify({ tables: { access_logs: rows } });
    const heapPeak = process.memoryUsage().heapUsed;
    const ms = performance.now() - started;
    return { ms, bytes: Buffer.byteLength(text), rows: rows.length, memoryGrowth: Math.max(0, heapPeak - before) };
  } finally {
    db.close();
  }
}

async function main() {
  if (LARGE <= SMALL) throw new Error("BENCH_EXPORT_LARGE must be larger than BENCH_EXPORT_SMALL");
  const tmp = makeTempDir("ozekai-bench-export-");
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry } = await dryRunBundle(tmp);
  const envFile = await writeEnvFile(tmp);
  const persist = await migrateLocalD1(tmp);
  const { base, dev } = await startWranglerDev(tmp, entry, persist, envFile);
  try {
    await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
    const api: Api = { base, timeoutMs: 30_000 };
    const tag = Date.now().toString(36);
    const cases = [
      { name: "small", rows: SMALL, user: await seededUser(api, tmp, persist, `bench-small-${tag}`, SMALL) },
      { name: "large", rows: LARGE, user: await seededUser(api, tmp, persist, `bench-large-${tag}`, LARGE) },
    ];
    const file = localD1File(persist);
    const results = [];
    for (const c of cases) {
      const { id } = (await expect(c.user, "GET", "/v1/account", [200])).json as { id: string };
      log(`exporting ${c.name} (${fmt(c.rows, 0)} rows) through the Worker …`);
      const worker = await exportThroughWorker(c.user, dev.child.pid!, c.rows);
      log(`reading ${c.name} straight from SQLite …`);
      const baseline = exportHeldWhole(file, id);
      results.push({ ...c, worker, baseline });
    }

    const rowsOut = results.map((r) => [
      `${fmt(r.rows, 0)} rows`,
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
      `Privacy export (GET /v1/privacy/export) of ${fmt(SMALL, 0)} and ${fmt(LARGE, 0)} access-log rows, side by side with the rows read straight from SQLite and held whole`,
      table(["account", "export time", "rows/s", "document", "Worker RSS growth", "baseline time", "baseline heap growth", "export / baseline time"], rowsOut),
      `Rows grow ${fmt(LARGE / SMALL, 1)}×, the document ${fmt(large.worker.bytes / small.worker.bytes, 1)}×.`,
      `Memory growth, large / small: Worker (streamed) ${growth((r) => r.worker.memoryGrowth)}; baseline (held whole) ${growth((r) => r.baseline.memoryGrowth)}.`,
      `Worker RSS growth during the large export: ${mib(large.worker.memoryGrowth)} — the Worker limit is 128 MiB per isolate; the document is ${mib(large.worker.bytes)}.`,
      "(Worker RSS = wrangler's Node process + workerd, which also hosts the local D1 and its page cache; sampled every 25 ms.)",
    ];
    console.log(out.join("\n"));
  } finally {
    await stopChild(dev.child);
  }
}

await runBench("export", main, 5000);
