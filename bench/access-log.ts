/**
 * `npm run bench:access-log`: a benchmark, not a test. What the access log (a line per request,
 * sent to a Queue after the answer, written to R2 by the Worker's own consumer:
 * docs/decisions/0037-access-logs-queue-r2.md) costs a request, and how fast the local consumer
 * keeps up. The bundled Worker runs under Miniflare twice, side by side in the same run, each on
 * its own local state:
 *   - with the access log: the real queue producer and consumer of wrangler.toml;
 *   - the baseline, without it: ACCESS_LOG_QUEUE bound to a send() that does nothing.
 * 1. Authenticated requests (GET /v1/account with a bearer token), BENCH_ACCESS_LOG_REQUESTS
 *    (default 2,000) each, sequential, in alternating rounds: wall time a request at the client,
 *    and the Worker's CPU (workerd's process group, /proc) a request — for the logging side
 *    counted until its consumer stored every line, so the consumer's work is in it. Ratios
 *    with / without (the goal: logging adds at most 10 %).
 * 2. Sustained ingest: BENCH_ACCESS_LOG_RPS (default 200) requests/s for BENCH_ACCESS_LOG_SECONDS
 *    (default 15) at the logging side, then until its consumer stored them all: lines/s reached
 *    and the consumer's batch sizes (from its `access_log_batch` lines).
 * Nothing but 127.0.0.1 is contacted; the temp dir is removed at the end, also on error or Ctrl-C.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Api, expect } from "./lib/http.ts";
import { cpuMsBetween, groupCpuTicks } from "./lib/proc.ts";
import { stopChild, waitHealthy } from "./lib/processes.ts";
import { fmt, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { PASSWORD, POLICY_VERSION, positiveInt } from "./lib/settings.ts";
import { sleep } from "./lib/time.ts";
import { dryRunBundle, migrateLocalD1, startMiniflare, writeEnvFile } from "./lib/worker.ts";

const REQUESTS = positiveInt("BENCH_ACCESS_LOG_REQUESTS", 2000);
const RPS = positiveInt("BENCH_ACCESS_LOG_RPS", 200);
const SECONDS = positiveInt("BENCH_ACCESS_LOG_SECONDS", 15);
const ROUNDS = 4;
const DRAIN_TIMEOUT_MS = 180_000;

interface Side {
  name: string;
  base: string;
  pgid: number;
  token: string;
  /** Lines the consumer reported stored, and each batch's size. */
  stored: { lines: number; batches: number[] };
  stop: () => Promise<void>;
}

async function start(name: string, tmp: string, script: string, envFile: string, noAccessLog: boolean): Promise<Side> {
  mkdirSync(join(tmp, name), { recursive: true });
  const persist = await migrateLocalD1(join(tmp, name));
  const { base, dev } = await startMiniflare(script, persist, envFile, { noAccessLog });
  const stored = { lines: 0, batches: [] as number[] };
  let pending = "";
  dev.child.stdout?.on("data", (chunk: Buffer) => {
    const text = pending + chunk.toString("utf8");
    const lines = text.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      const match = /"event":"access_log_batch".*?"lines":(\d+)/.exec(line);
      if (match) {
        stored.lines += Number(match[1]);
        stored.batches.push(Number(match[1]));
      }
    }
  });
  await waitHealthy(`${base}/healthz`, dev, `Miniflare (${name})`);
  const api: Api = { base, timeoutMs: 30_000 };
  const username = `bench-${name}-${Date.now().toString(36)}`;
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `${username}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  const login = await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD });
  return { name, base, pgid: dev.child.pid!, token: (login.json as { accessToken: string }).accessToken, stored, stop: () => stopChild(dev.child) };
}

async function account(side: Side) {
  const res = await fetch(`${side.base}/v1/account`, { headers: { Authorization: `Bearer ${side.token}` } });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`${side.name}: GET /v1/account answered ${res.status}`);
}

/** Until the consumer reported `lines` lines stored. */
async function drained(side: Side, lines: number) {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (side.stored.lines < lines) {
    if (performance.now() > deadline) throw new Error(`${side.name}: ${side.stored.lines} of ${lines} lines stored after ${DRAIN_TIMEOUT_MS} ms`);
    await sleep(50);
  }
  return performance.now();
}

async function main() {
  const tmp = makeTempDir("ozekai-bench-access-log-");
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry } = await dryRunBundle(tmp);
  const envFile = await writeEnvFile(tmp);
  const withLog = await start("with", tmp, entry, envFile, false);
  const without = await start("without", tmp, entry, envFile, true);
  try {
    for (const side of [withLog, without]) for (let i = 0; i < 200; i++) await account(side);
    // The warm-up's lines (and the sign-up's) stored first: what follows is the measured requests' alone.
    await sleep(6000);
    const measured = new Map<string, { wallMs: number; cpuMs: number }>([
      [withLog.name, { wallMs: 0, cpuMs: 0 }],
      [without.name, { wallMs: 0, cpuMs: 0 }],
    ]);
    const perRound = Math.ceil(REQUESTS / ROUNDS);
    const expectedLines = withLog.stored.lines + perRound * ROUNDS;
    const withCpuStart = groupCpuTicks(withLog.pgid)!;
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 === 0 ? [withLog, without] : [without, withLog]) {
        const cpuBefore = groupCpuTicks(side.pgid)!;
        const started = performance.now();
        for (let i = 0; i < perRound; i++) await account(side);
        const m = measured.get(side.name)!;
        m.wallMs += performance.now() - started;
        if (side === without) m.cpuMs += cpuMsBetween(cpuBefore, groupCpuTicks(side.pgid)!);
      }
    }
    await drained(withLog, expectedLines);
    measured.get(withLog.name)!.cpuMs = cpuMsBetween(withCpuStart, groupCpuTicks(withLog.pgid)!);
    const n = perRound * ROUNDS;
    const w = measured.get(withLog.name)!;
    const b = measured.get(without.name)!;

    log(`ingest: ${RPS} requests/s for ${SECONDS} s …`);
    const before = withLog.stored.lines;
    const batchesBefore = withLog.stored.batches.length;
    const total = RPS * SECONDS;
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RPS;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      inFlight.push(account(withLog));
    }
    await Promise.all(inFlight);
    const sentMs = performance.now() - started;
    const landedAt = await drained(withLog, before + total);
    const batches = withLog.stored.batches.slice(batchesBefore);
    const ingestS = (landedAt - started) / 1000;

    const out = [
      "",
      `Access log cost per authenticated request (GET /v1/account, ${fmt(n, 0)} sequential requests a side in ${ROUNDS} alternating rounds; Miniflare, local queue, D1 and R2)`,
      table(
        ["side", "wall ms a request", "Worker CPU ms a request"],
        [
          ["with the access log (queue + consumer)", fmt(w.wallMs / n, 3), fmt(w.cpuMs / n, 3)],
          ["without (send() does nothing)", fmt(b.wallMs / n, 3), fmt(b.cpuMs / n, 3)],
        ],
      ),
      `Ratios with / without: wall ${fmt(w.wallMs / b.wallMs, 3)}×, CPU ${fmt(w.cpuMs / b.cpuMs, 3)}× (goal ≤ 1.10; the CPU of the logging side includes its consumer storing every line).`,
      "",
      `Sustained ingest at ${RPS} requests/s for ${SECONDS} s: ${fmt(total, 0)} lines sent in ${fmt(sentMs / 1000, 2)} s (${fmt(total / (sentMs / 1000), 0)} requests/s reached), all stored after ${fmt(ingestS, 2)} s: ${fmt(total / ingestS, 0)} lines/s through the consumer.`,
      `Consumer batches: ${batches.length}, sizes ${batches.length ? `${Math.min(...batches)}–${Math.max(...batches)}, mean ${fmt(batches.reduce((a, x) => a + x, 0) / batches.length, 1)}` : "none"} (max_batch_size 100, max_batch_timeout 5 s in wrangler.toml).`,
    ];
    console.log(out.join("\n"));
  } finally {
    await withLog.stop();
    await without.stop();
  }
}

await runBench("access-log", main, 5000);
