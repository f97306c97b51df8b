/**
 * Section 4: N concurrent transfers on one host (N = 1, 4, 16), one user each with a running
 * session: all N upload the same file through the Worker at once, then all N download it; each
 * transfer's time, the wall time for all N, the throughput they share, and errors. Every
 * workspace is destroyed at the end.
 */
import { join } from "node:path";
import { type Api, expect } from "../lib/http.ts";
import { fmt, fmtLoad, mbps, median, table } from "../lib/report.ts";
import { log } from "../lib/run-bench.ts";
import { httpDownload, httpUpload, MIB } from "../lib/transfer.ts";
import { CONCURRENCY } from "./concurrent-connects.ts";
import { makeFile } from "./random-file.ts";
import { apiConnect } from "./session-api.ts";
import { CONCURRENT_FILE_MB } from "./settings.ts";

interface Batch {
  ms: number[];
  wallMs: number;
  errors: string[];
}

export interface TransferBatchRow {
  n: number;
  upload: Batch;
  download: Batch;
}

/** Runs `one` for every api at once; each one's time and the wall time for all. */
async function together(apis: Api[], one: (api: Api) => Promise<{ status: number; bytes: number; ms: number; text: string }>, bytes: number): Promise<Batch> {
  const started = performance.now();
  const settled = await Promise.allSettled(apis.map(one));
  const wallMs = performance.now() - started;
  const ms: number[] = [];
  const errors: string[] = [];
  for (const outcome of settled) {
    if (outcome.status === "rejected") errors.push(String(outcome.reason).slice(0, 200));
    else if (outcome.value.status < 200 || outcome.value.status > 299 || outcome.value.bytes !== bytes) errors.push(`${outcome.value.status}, ${outcome.value.bytes} bytes: ${outcome.value.text.slice(0, 200)}`);
    else ms.push(outcome.value.ms);
  }
  return { ms, wallMs, errors };
}

export async function concurrentTransfers(users: { api: Api }[], tmp: string): Promise<TransferBatchRow[]> {
  const most = Math.max(...CONCURRENCY);
  if (users.length < most) throw new Error(`${most} users needed, ${users.length} made`);
  const bytes = CONCURRENT_FILE_MB * MIB;
  const source = join(tmp, "concurrent.bin");
  log(`concurrent transfers: writing a ${CONCURRENT_FILE_MB} MiB file and connecting ${most} users (untimed) …`);
  makeFile(source, CONCURRENT_FILE_MB);
  for (let at = 0; at < most; at += 4) await Promise.all(users.slice(at, at + 4).map(({ api }) => apiConnect(api)));
  const path = "/v1/workspace/files/concurrent.bin";
  const rows: TransferBatchRow[] = [];
  try {
    for (const n of CONCURRENCY) {
      const apis = users.slice(0, n).map(({ api }) => api);
      log(`concurrent transfers: ${n} uploads of ${CONCURRENT_FILE_MB} MiB at once …`);
      const upload = await together(apis, (api) => httpUpload(`${api.base}${path}`, api.token!, source, bytes), bytes);
      log(`concurrent transfers: ${n} downloads at once …`);
      // Into /dev/null: N copies on this disk would measure the disk, not the path.
      const download = await together(apis, (api) => httpDownload(`${api.base}${path}`, api.token!, "/dev/null", bytes), bytes);
      await Promise.all(apis.map((api) => expect(api, "DELETE", path, [200, 204, 404])));
      rows.push({ n, upload, download });
    }
  } finally {
    for (let at = 0; at < most; at += 4) {
      await Promise.all(
        users.slice(at, at + 4).map(async ({ api }) => {
          const { sessions } = (await expect(api, "GET", "/v1/sessions?limit=1", [200])).json as { sessions: { id: string; state: string }[] };
          if (sessions[0]?.state === "running") await expect(api, "POST", `/v1/sessions/${sessions[0].id}/disconnect`, [200]);
          await expect(api, "DELETE", "/v1/workspace", [200, 404]);
        }),
      );
    }
  }
  return rows;
}

export function concurrentTransfersReport(rows: TransferBatchRow[], loadBefore: number[]): string[] {
  const bytes = CONCURRENT_FILE_MB * MIB;
  const out = [`4. Concurrent transfers on one host: N users each move ${CONCURRENT_FILE_MB} MiB through the Worker at once (uploads, then downloads)`];
  const base = rows[0]!;
  const body: string[][] = [];
  for (const direction of ["upload", "download"] as const) {
    for (const r of rows) {
      const batch = r[direction];
      const sorted = [...batch.ms].sort((a, b) => a - b);
      const shared = mbps(bytes * batch.ms.length, batch.wallMs);
      const alone = mbps(bytes * base[direction].ms.length, base[direction].wallMs);
      body.push([direction, String(r.n), fmt(median(sorted) / 1000, 2), fmt((sorted.at(-1) ?? Number.NaN) / 1000, 2), fmt(batch.wallMs / 1000, 2), fmt(shared, 0), `${fmt(shared / alone, 2)}×`, fmt(shared / Math.max(1, batch.ms.length), 0), String(batch.errors.length)]);
    }
  }
  out.push(table(["direction", "N", "median s", "max s", "wall s", "total MB/s", "total / N=1", "MB/s each", "errors"], body));
  for (const r of rows) for (const direction of ["upload", "download"] as const) for (const error of r[direction].errors) out.push(`  N=${r.n} ${direction} error: ${error}`);
  out.push(`(goal: the throughput shared, not collapsing — total / N=1 near 1×, no error; load average ${fmtLoad(loadBefore)} before this section)`, "");
  return out;
}
