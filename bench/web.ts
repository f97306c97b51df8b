/**
 * `npm run bench:web`: the website's first load, a benchmark, not a test. One run
 *   1. builds the website and serves the Worker's dry-run bundle under `wrangler dev` (assets from
 *      web/dist, as deployed), with one signed-in user whose session is running with per-minute
 *      samples (rows written to the local D1 on an offline host: no container is needed to render);
 *   2. in Chromium (Debian's, headless), each round in a fresh context (empty cache), loads a plain
 *      static page written beside the build (an h1, no script) and the dashboard signed in, in
 *      turn, timing each from navigation start to its content in the DOM (the h1; the session's
 *      state): the median of ROUNDS, and the dashboard's as a ratio of the static page's;
 *   3. lists the JavaScript the dashboard fetched before its session view rendered (the first load)
 *      and after it (lazily: the chart library), with gzipped sizes (decision 0019's goal: at most
 *      100 KiB on first load, the terminal and the charts lazily).
 * Nothing but 127.0.0.1 is contacted; the temp dir and the static page are removed at the end.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type Browser, chromium } from "playwright-core";
import { LOCAL_KEYS } from "../web/src/storage.ts";
import { type Api, expect } from "./lib/http.ts";
import { waitHealthy } from "./lib/processes.ts";
import { fmt, fmtLoad, kib, median, table } from "./lib/report.ts";
import { log, makeTempDir, onCleanup, runBench } from "./lib/run-bench.ts";
import { PASSWORD, POLICY_VERSION, positiveInt, ROOT } from "./lib/settings.ts";
import { dryRunBundle, migrateLocalD1, startWranglerDev, writeEnvFile } from "./lib/worker.ts";
import { wrangler } from "./lib/wrangler.ts";

const ROUNDS = positiveInt("BENCH_WEB_ROUNDS", 7);
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FIRST_LOAD_GOAL = 100 * 1024;
const DIST = join(ROOT, "web/dist");
const STATIC_PAGE = "bench-plain.html";
const MINUTE = 60_000;

/** Records, in the page, when `selector` first matches (ms since navigation start) as `__ready`. */
const readyWhen = (selector: string) => `new MutationObserver((_, observer) => {
  if (document.querySelector(${JSON.stringify(selector)})) { window.__ready = performance.now(); observer.disconnect(); }
}).observe(document, { childList: true, subtree: true });`;

/** What the init script recorded (functions, not strings: the site's CSP refuses eval, which string predicates use). */
const ready = () => (globalThis as { __ready?: number }).__ready;
/** The page's scripts as fetched: path and start time (ms since navigation start). */
const scripts = () =>
  performance
    .getEntriesByType("resource")
    .filter((e) => new URL(e.name).pathname.endsWith(".js"))
    .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime }));

interface Load {
  ms: number;
  scripts: { path: string; start: number }[];
}

async function load(browser: Browser, url: string, selector: string, tokens?: [string, string][]): Promise<Load> {
  const context = await browser.newContext();
  try {
    if (tokens) await context.addInitScript(`for (const [k, v] of ${JSON.stringify(tokens)}) localStorage.setItem(k, v);`);
    await context.addInitScript(readyWhen(selector));
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as { __ready?: number }).__ready !== undefined, undefined, { timeout: 30_000 });
    // What it fetches afterwards (lazily) too.
    await page.waitForLoadState("networkidle");
    return { ms: (await page.evaluate(ready))!, scripts: await page.evaluate(scripts) };
  } finally {
    await context.close();
  }
}

/** A verified user on a plan, signed in; its session running for ten minutes with samples (GPU, CPU, memory) up to now. */
async function benchUser(api: Api, tmp: string, persist: string) {
  const id = crypto.randomUUID().slice(0, 8);
  const username = `web${id}`;
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `bench-${id}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  const sql = (statement: string) => wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--command", statement], tmp);
  await sql(`UPDATE users SET plan_id = 'h100-1', email_verified_at = ${Date.now()} WHERE username = '${username}'`);
  const login = (await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD })).json as { accessToken: string; refreshToken: string };
  api.token = login.accessToken;
  const { id: userId } = (await expect(api, "GET", "/v1/account", [200])).json as { id: string };
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  const started = minute - 10 * MINUTE;
  const gpus = JSON.stringify([{ utilizationPercent: 80, memoryUsedMb: 40000, memoryTotalMb: 81920 }]);
  const samples = Array.from(
    { length: 10 },
    (_, i) =>
      `INSERT INTO usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, gpus, cpu_percent, memory_used_bytes, shells_attached) VALUES ('ses-bench', '${userId}', ${started + (i + 1) * MINUTE}, 1, 80, 80, 40000, 81920, '${gpus}', 120, 2147483648, 0)`,
  );
  await sql(
    [
      `INSERT INTO gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) VALUES ('host-bench', 'bench', 'url', 'http://127.0.0.1:1', 1, 'offline', ${started})`,
      `INSERT INTO workspaces (id, user_id, host_id, state, created_at, last_used_at) VALUES ('ws-bench', '${userId}', 'host-bench', 'hot', ${started}, ${started})`,
      `INSERT INTO sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, gpu_type, gpu_count, cpus, memory_mb, pids_limit, ports) VALUES ('ses-bench', '${userId}', 'ws-bench', 'host-bench', 'h100-1', 'running', ${started}, ${started}, 'H100', 1, 16, 131072, 4096, '[]')`,
      ...samples,
    ].join("; "),
  );
  const tokens: [string, string][] = [
    [LOCAL_KEYS.accessToken.key, login.accessToken],
    [LOCAL_KEYS.refreshToken.key, login.refreshToken],
    [LOCAL_KEYS.username.key, username],
  ];
  return tokens;
}

const gzipped = (path: string) => gzipSync(readFileSync(join(DIST, path))).length;

async function main() {
  const tmp = makeTempDir("ozekai-bench-web-");
  const { entry } = await dryRunBundle(tmp);
  // The baseline: a page with no script, served from the same assets by the same server.
  writeFileSync(join(DIST, STATIC_PAGE), '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Plain</title></head><body><h1>A plain static page</h1></body></html>\n');
  onCleanup(() => rmSync(join(DIST, STATIC_PAGE), { force: true }));
  const envFile = await writeEnvFile(tmp);
  const persist = await migrateLocalD1(tmp);
  const { base, dev } = await startWranglerDev(tmp, entry, persist, envFile);
  await waitHealthy(`${base}/healthz`, dev, "wrangler dev");
  const tokens = await benchUser({ base, timeoutMs: 30_000 }, tmp, persist);

  log(`Chromium ${CHROMIUM}, ${ROUNDS} rounds …`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--headless", "--no-sandbox"] });
  const plain: number[] = [];
  const dash: number[] = [];
  let last: Load | undefined;
  try {
    // Warm-up: the Worker's isolate and Chromium's first start are not what is measured.
    await load(browser, `${base}/bench-plain`, "h1");
    await load(browser, `${base}/dashboard`, '[data-testid="session-state"]', tokens);
    for (let round = 0; round < ROUNDS; round++) {
      plain.push((await load(browser, `${base}/bench-plain`, "h1")).ms);
      last = await load(browser, `${base}/dashboard`, '[data-testid="session-state"]', tokens);
      dash.push(last.ms);
    }
  } finally {
    await browser.close();
  }
  if (!last) throw new Error("no round ran");

  const rendered = last.ms;
  const first = [...new Set(last.scripts.filter((s) => s.start <= rendered).map((s) => s.path))];
  const later = [...new Set(last.scripts.filter((s) => s.start > rendered).map((s) => s.path))].filter((p) => !first.includes(p));
  const size = (paths: string[]) => paths.reduce((sum, p) => sum + gzipped(p), 0);
  const firstBytes = size(first);
  const rows = [...first.map((p) => [p, "first load", kib(gzipped(p))]), ...later.map((p) => [p, "after the session view (lazily)", kib(gzipped(p))])];
  const lazyChart = later.some((p) => /uPlot/i.test(p)) && !first.some((p) => /uPlot/i.test(p));
  const noTerminal = ![...first, ...later].some((p) => /console/.test(p));

  const out: string[] = [];
  out.push(`bench:web — ${new Date().toISOString()}, ${cpus().length} CPUs, load ${fmtLoad(loadavg())}, ${ROUNDS} rounds, Chromium headless, a fresh context (empty cache) each round`);
  out.push("");
  out.push("1. JavaScript the dashboard fetched (signed in, a running session with samples), gzipped as served");
  out.push(table(["chunk", "when", "gzip"], rows));
  out.push(`first load: ${kib(firstBytes)} of JavaScript (goal ≤ ${kib(FIRST_LOAD_GOAL)}: ${firstBytes <= FIRST_LOAD_GOAL ? "met" : "NOT met"})`);
  out.push(`charts (uPlot) fetched only after the session view rendered: ${lazyChart ? "yes" : "NO"}; the terminal (xterm, console-*.js) not fetched by the dashboard: ${noTerminal ? "yes" : "NO"}`);
  out.push("");
  out.push("2. Navigation start to content in the DOM, median of the rounds");
  out.push(
    table(
      ["page", "median ms", "min ms", "max ms"],
      [
        ["plain static page (h1, no script)", fmt(median(plain)), fmt(Math.min(...plain)), fmt(Math.max(...plain))],
        ["dashboard, signed in (session view rendered)", fmt(median(dash)), fmt(Math.min(...dash)), fmt(Math.max(...dash))],
      ],
    ),
  );
  out.push(`dashboard / plain page: ${fmt(median(dash) / median(plain), 2)}×`);
  console.log(out.join("\n"));
}

await runBench("bench:web", main, 2000);
