/**
 * Section 2: N concurrent connects on one host (N = 1, 4, 16), one user (tenant) each, every
 * workspace hot beforehand (connected and disconnected once, untimed): all N POST /v1/sessions at
 * once; each connect's latency, the wall time for all N, connects per second, and errors.
 */
import { type Api, expect } from "../lib/http.ts";
import { fmt, fmtLoad, median, table } from "../lib/report.ts";
import { log } from "../lib/run-bench.ts";
import { apiConnect } from "./session-api.ts";

export const CONCURRENCY = [1, 4, 16];

export interface ConcurrentRow {
  n: number;
  latencies: number[];
  wallMs: number;
  errors: string[];
}

const disconnectAll = (pairs: { api: Api; sessionId: string }[]) => Promise.all(pairs.map(({ api, sessionId }) => expect(api, "POST", `/v1/sessions/${sessionId}/disconnect`, [200])));

export async function concurrentConnects(users: { api: Api }[]): Promise<ConcurrentRow[]> {
  const most = Math.max(...CONCURRENCY);
  if (users.length < most) throw new Error(`${most} users needed, ${users.length} made`);
  log(`concurrent connects: making ${most} workspaces hot (untimed) …`);
  for (let at = 0; at < most; at += 4) {
    const batch = users.slice(at, at + 4);
    const made = await Promise.all(batch.map(async ({ api }) => ({ api, sessionId: (await apiConnect(api)).session.id })));
    await disconnectAll(made);
  }
  const rows: ConcurrentRow[] = [];
  for (const n of CONCURRENCY) {
    log(`concurrent connects: ${n} at once …`);
    const group = users.slice(0, n);
    const started = performance.now();
    const settled = await Promise.allSettled(group.map(({ api }) => apiConnect(api)));
    const wallMs = performance.now() - started;
    const latencies: number[] = [];
    const errors: string[] = [];
    const running: { api: Api; sessionId: string }[] = [];
    settled.forEach((outcome, i) => {
      if (outcome.status === "rejected") errors.push(String(outcome.reason).slice(0, 200));
      else {
        latencies.push(outcome.value.ms);
        running.push({ api: group[i]!.api, sessionId: outcome.value.session.id });
      }
    });
    await disconnectAll(running);
    rows.push({ n, latencies, wallMs, errors });
  }
  // Destroyed through the API, 4 at a time: the provisioner unmounts each disk and removes the
  // tenant's network (removing the Docker volume alone would leave the disk mounted).
  for (let at = 0; at < most; at += 4) await Promise.all(users.slice(at, at + 4).map(({ api }) => expect(api, "DELETE", "/v1/workspace", [200])));
  return rows;
}

export function concurrentReport(rows: ConcurrentRow[], loadBefore: number[]): string[] {
  const base = rows[0]!;
  const out = [`2. Concurrent connects on one host: N users connect at once, each workspace hot (ms)`];
  out.push(
    table(
      ["N", "median latency", "max latency", "median / N=1", "wall for all", "connects/s", "errors"],
      rows.map((r) => {
        const sorted = [...r.latencies].sort((a, b) => a - b);
        return [String(r.n), fmt(median(sorted)), fmt(sorted.at(-1) ?? Number.NaN), `${fmt(median(sorted) / median(base.latencies), 2)}×`, fmt(r.wallMs), fmt((r.latencies.length * 1000) / r.wallMs, 2), String(r.errors.length)];
      }),
    ),
  );
  for (const r of rows) for (const error of r.errors) out.push(`  N=${r.n} error: ${error}`);
  out.push(`(load average ${fmtLoad(loadBefore)} before this section)`, "");
  return out;
}
