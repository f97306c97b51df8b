/**
 * Section 3: file transfer. Upload and download of one file through the Worker
 * (PUT/GET /v1/workspace/files/{path}) against `docker cp` of the same file into and out of a
 * container, MB/s and ratios (target ≥ 0.5×), with the peak RSS of the Worker runtime
 * (wrangler + workerd) and of the provisioner during each transfer, for each file size.
 * Skipped, with a note, while the Worker has no such routes.
 */
import { rmSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { dockerOk, type DockerResult } from "../lib/docker.ts";
import { type Api, expect } from "../lib/http.ts";
import { partyCpuMs, partyCpuTicks, rssSampler } from "../lib/proc.ts";
import { fmt, fmtLoad, mbps, mib, table } from "../lib/report.ts";
import { log } from "../lib/run-bench.ts";
import type { SessionStack } from "../lib/stack.ts";
import { sleep } from "../lib/time.ts";
import { httpDownload, httpUpload, MIB, type TransferResult, transferTimeout } from "../lib/transfer.ts";
import { makeFile, sha256File } from "./random-file.ts";
import { rawRemove, rawRun } from "./raw-container.ts";
import { apiConnect, apiDisconnectAndDestroy } from "./session-api.ts";
import { FILE_SIZES_MB, RSS_SAMPLE_MS } from "./settings.ts";
interface FileRoutes {
  available: boolean;
  note: string;
}

/** Whether the Worker has the file routes: its OpenAPI document lists them (PUT and GET). */
async function findFileRoutes(api: Api): Promise<FileRoutes> {
  const doc = (await expect(api, "GET", "/openapi.json", [200])).json as { paths?: Record<string, Record<string, unknown>> };
  const path = Object.keys(doc.paths ?? {}).find((p) => /^\/v1\/workspace\/files\/\{[^}]+\}$/.test(p));
  const ops = path ? doc.paths![path]! : {};
  if (!path || !("put" in ops) || !("get" in ops)) {
    return { available: false, note: "the Worker has no PUT and GET /v1/workspace/files/{path} yet (not in /openapi.json)" };
  }
  return { available: true, note: `${path}` };
}

/** One way of moving the bytes: its wall time and the CPU each party spent on it. */
export interface PathRun {
  ms: number;
  cpuMs: Record<string, number>;
}

export interface TransferRow {
  sizeMb: number;
  upload: TransferResult;
  download: TransferResult;
  cpIn: DockerResult;
  cpOut: DockerResult;
  /** Where the time goes: each path of the same bytes with the CPU of every party (client, worker, provisioner, docker). */
  paths: { upload: Record<PathName, PathRun>; download: Record<PathName, PathRun> };
  /** Peak RSS (bytes) during each API transfer, and just before them. */
  rssIdle: Record<string, number>;
  rssUpload: Record<string, number>;
  rssDownload: Record<string, number>;
  verified: string;
}

export type PathName = "worker" | "host" | "docker cp" | "docker cp, session disk";
const PATHS: PathName[] = ["worker", "host", "docker cp", "docker cp, session disk"];
const PATH_LABELS: Record<PathName, string> = {
  worker: "client → Worker → provisioner",
  host: "client → provisioner",
  "docker cp": "docker cp",
  // The session's container: its workspace is the size-bounded disk (an ext4 image, loop-mounted).
  "docker cp, session disk": "docker cp, session's disk",
};

/** Runs `work`, timing it and reading every party's CPU before and after. */
async function measured<T extends { ms: number }>(groups: Record<string, number>, work: () => Promise<T>): Promise<{ value: T; run: PathRun }> {
  const before = partyCpuTicks(groups);
  const value = await work();
  return { value, run: { ms: value.ms, cpuMs: partyCpuMs(before, partyCpuTicks(groups)) } };
}

export type FileOutcome = { skipped: string } | { rows: TransferRow[]; routeNote: string };

export async function fileTransfer(stack: SessionStack, tmp: string): Promise<FileOutcome> {
  const { api } = stack;
  const routes = await findFileRoutes(api);
  if (!routes.available) return { skipped: routes.note };

  const { session } = await apiConnect(api); // a workspace to upload into, with its session running
  const box = await rawRun("files"); // the docker cp side: a container made as in section 1
  const groups = { worker: stack.worker.child.pid!, provisioner: stack.provisioner.child.pid! };
  const rows: TransferRow[] = [];
  try {
    for (const sizeMb of FILE_SIZES_MB) {
      const bytes = sizeMb * MIB;
      const name = `bench-${sizeMb}MiB.bin`;
      const source = join(tmp, name);
      const back = join(tmp, `${name}.back`);
      log(`files: writing a ${sizeMb} MiB file …`);
      const sha = makeFile(source, sizeMb);
      const url = `${api.base}/v1/workspace/files/${name}`;

      // The provisioner reached straight, as the Worker reaches it: the host's share of the path.
      const hostTarget = `/v1/workspaces/${session.workspaceId}/files/host-${name}`;

      await sleep(500); // let the RSS settle after the previous size
      const rssIdle = rssSampler(groups, RSS_SAMPLE_MS).stop();
      log(`files: ${sizeMb} MiB upload through the Worker …`);
      let sampler = rssSampler(groups, RSS_SAMPLE_MS);
      const up = await measured(groups, () => httpUpload(url, api.token!, source, bytes));
      const upload = up.value;
      const rssUpload = sampler.stop();
      if (upload.status === 404) return { skipped: `PUT ${new URL(url).pathname} answered 404: ${upload.text.slice(0, 300)}` };
      if (upload.status < 200 || upload.status > 299) throw new Error(`upload: ${upload.status} ${upload.text.slice(0, 500)}`);

      log(`files: ${sizeMb} MiB upload straight to the provisioner …`);
      const hostUp = await measured(groups, async () => httpUpload(`${stack.host.url}${hostTarget}`, await stack.host.token("PUT", hostTarget, { length: bytes }), source, bytes));
      if (hostUp.value.status !== 200 && hostUp.value.status !== 201) throw new Error(`host upload: ${hostUp.value.status} ${hostUp.value.text.slice(0, 500)}`);

      log(`files: ${sizeMb} MiB docker cp into a container …`);
      const cp = await measured(groups, () => dockerOk(["cp", source, `${box.raw.name}:/workspace/${name}`], transferTimeout(bytes)));
      const cpIn = cp.value;

      log(`files: ${sizeMb} MiB docker cp into the session's own container (its disk) …`);
      const sessionBox = `ozk-session-${session.id}`;
      const cpDisk = await measured(groups, () => dockerOk(["cp", source, `${sessionBox}:/workspace/disk-${name}`], transferTimeout(bytes)));

      log(`files: ${sizeMb} MiB download through the Worker …`);
      sampler = rssSampler(groups, RSS_SAMPLE_MS);
      const down = await measured(groups, () => httpDownload(url, api.token!, back, bytes));
      const download = down.value;
      const rssDownload = sampler.stop();
      if (download.status !== 200) throw new Error(`download: ${download.status} ${download.text.slice(0, 500)}`);
      if (download.bytes !== bytes) throw new Error(`download: ${download.bytes} bytes, expected ${bytes}`);
      const checks: string[] = [];
      const uploaded = (() => {
        try {
          return JSON.parse(upload.text) as { sha256?: unknown; size?: unknown };
        } catch {
          return {};
        }
      })();
      if (typeof uploaded.sha256 === "string") {
        if (uploaded.sha256 !== sha) throw new Error(`upload: the Worker says sha256 ${uploaded.sha256}, the file has ${sha}`);
        checks.push("upload sha256");
      }
      if ((await sha256File(back)) !== sha) throw new Error("download: the bytes differ from the uploaded file");
      checks.push("download sha256");
      rmSync(back, { force: true });

      log(`files: ${sizeMb} MiB download straight from the provisioner …`);
      const hostDown = await measured(groups, async () => httpDownload(`${stack.host.url}${hostTarget}`, await stack.host.token("GET", hostTarget), back, bytes));
      if (hostDown.value.status !== 200 || hostDown.value.bytes !== bytes) throw new Error(`host download: ${hostDown.value.status}, ${hostDown.value.bytes} bytes ${hostDown.value.text.slice(0, 500)}`);
      rmSync(back, { force: true });

      log(`files: ${sizeMb} MiB docker cp out of the container …`);
      const cpBack = await measured(groups, () => dockerOk(["cp", `${box.raw.name}:/workspace/${name}`, back], transferTimeout(bytes)));
      const cpOut = cpBack.value;
      if (statSync(back).size !== bytes) throw new Error(`docker cp out: ${statSync(back).size} bytes, expected ${bytes}`);
      checks.push("docker cp size");
      rmSync(back, { force: true });
      const cpDiskBack = await measured(groups, () => dockerOk(["cp", `${sessionBox}:/workspace/disk-${name}`, back], transferTimeout(bytes)));
      if (statSync(back).size !== bytes) throw new Error(`docker cp out of the session: ${statSync(back).size} bytes, expected ${bytes}`);
      rmSync(back, { force: true });
      rmSync(source, { force: true });
      const paths = {
        upload: { worker: up.run, host: hostUp.run, "docker cp": cp.run, "docker cp, session disk": cpDisk.run },
        download: { worker: down.run, host: hostDown.run, "docker cp": cpBack.run, "docker cp, session disk": cpDiskBack.run },
      };
      rows.push({ sizeMb, upload, download, cpIn, cpOut, paths, rssIdle, rssUpload, rssDownload, verified: checks.join(", ") });
    }
  } finally {
    await apiDisconnectAndDestroy(api, session).catch((error) => log(`files: disconnect/destroy failed (cleanup sweeps it): ${String(error)}`));
    await rawRemove(box.raw).catch(() => undefined);
  }
  return { rows, routeNote: routes.note };
}

/** The section's lines: MB/s and RSS per size and direction, the ratios at the largest size against the target. */
export function fileReport(files: FileOutcome, loadBefore: number[], loadAfter: number[]): string[] {
  const out: string[] = [];
  out.push(`3. File transfer through the Worker vs docker cp (sizes ${FILE_SIZES_MB.map((s) => `${s} MiB`).join(" and ")}; MB/s = 10^6 bytes/s)`);
  if ("skipped" in files) {
    out.push(`SKIPPED: ${files.skipped}. Rerun once the routes exist; nothing else in this section was measured.`);
    return out;
  }
  const fileRows: string[][] = [];
  for (const r of files.rows) {
    const bytes = r.sizeMb * MIB;
    const up = mbps(bytes, r.upload.ms);
    const cpIn = mbps(bytes, r.cpIn.ms);
    const down = mbps(bytes, r.download.ms);
    const cpOut = mbps(bytes, r.cpOut.ms);
    fileRows.push([`${r.sizeMb} MiB`, "upload", fmt(up), fmt(cpIn), `${fmt(up / cpIn, 2)}×`, mib(r.rssIdle.worker!), mib(r.rssUpload.worker!), mib(r.rssIdle.provisioner!), mib(r.rssUpload.provisioner!)]);
    fileRows.push([`${r.sizeMb} MiB`, "download", fmt(down), fmt(cpOut), `${fmt(down / cpOut, 2)}×`, mib(r.rssIdle.worker!), mib(r.rssDownload.worker!), mib(r.rssIdle.provisioner!), mib(r.rssDownload.provisioner!)]);
  }
  out.push(table(["size", "direction", "API MB/s", "docker cp MB/s", "API/cp", "worker RSS before", "worker RSS peak", "prov. RSS before", "prov. RSS peak"], fileRows));
  const largest = files.rows.at(-1)!;
  const smallest = files.rows[0]!;
  const upRatio = largest.cpIn.ms / largest.upload.ms;
  const downRatio = largest.cpOut.ms / largest.download.ms;
  out.push(
    `at ${largest.sizeMb} MiB: upload ${fmt(upRatio, 2)}×, download ${fmt(downRatio, 2)}× docker cp (goal ≥ 0.8×: ${upRatio >= 0.8 && downRatio >= 0.8 ? "met" : "missed"})`,
  );
  out.push(...whereTheTimeGoes(largest));
  if (files.rows.length > 1) {
    const peak = (r: TransferRow, who: "worker" | "provisioner") => Math.max(r.rssUpload[who]!, r.rssDownload[who]!);
    out.push(
      `peak RSS from ${smallest.sizeMb} MiB to ${largest.sizeMb} MiB (${fmt(largest.sizeMb / smallest.sizeMb, 0)}× the bytes): ` +
        `worker runtime ${mib(peak(smallest, "worker"))} → ${mib(peak(largest, "worker"))}, provisioner ${mib(peak(smallest, "provisioner"))} → ${mib(peak(largest, "provisioner"))}`,
    );
  }
  out.push(
    `(load average ${fmtLoad(loadBefore)} before this section, ${fmtLoad(loadAfter)} after; route ${files.routeNote}; verified: ${largest.verified}. worker = the Worker runtime's process group (wrangler's Node process and workerd, or Miniflare's), provisioner = its Node process; VmRSS sampled every ${RSS_SAMPLE_MS} ms)`,
  );
  return out;
}

const PARTIES = [
  ["client", "client"],
  ["worker", "worker runtime"],
  ["provisioner", "provisioner"],
  ["docker", "docker engine"],
] as const;

/**
 * The profile of the largest size: the same bytes through the Worker, straight to the provisioner
 * and by docker cp, each with the CPU seconds of every party. On a machine with few cores the sum
 * bounds the rate: a path that needs C CPU seconds cannot take less than C / cores.
 */
function whereTheTimeGoes(row: TransferRow): string[] {
  const bytes = row.sizeMb * MIB;
  const cores = cpus().length;
  const lines: string[] = [];
  const rows: string[][] = [];
  for (const direction of ["upload", "download"] as const) {
    const cp = row.paths[direction]["docker cp"];
    for (const path of PATHS) {
      const run = row.paths[direction][path];
      const total = Object.values(run.cpuMs).reduce((a, b) => a + b, 0);
      rows.push([
        direction,
        PATH_LABELS[path],
        fmt(run.ms / 1000, 2),
        fmt(mbps(bytes, run.ms), 0),
        `${fmt(cp.ms / run.ms, 2)}×`,
        ...PARTIES.map(([key]) => fmt((run.cpuMs[key] ?? 0) / 1000, 2)),
        fmt(total / 1000, 2),
        fmt(total / run.ms, 2),
        `${fmt(cp.ms / (total / cores), 2)}×`,
      ]);
    }
    const worker = row.paths[direction].worker;
    const host = row.paths[direction].host;
    const cpu = (run: PathRun) => Object.values(run.cpuMs).reduce((a, b) => a + b, 0);
    const disk = row.paths[direction]["docker cp, session disk"];
    lines.push(
      `   ${direction}: docker cp into the session's own disk takes ${fmt(disk.ms / row.paths[direction]["docker cp"].ms, 2)}× docker cp into a plain volume (the size-bounded disk's share); ` +
        `the provisioner alone takes ${fmt(host.ms / disk.ms, 2)}× docker cp into that same disk`,
    );
    lines.push(
      `   ${direction}: the Worker hop costs ${fmt((worker.ms - host.ms) / 1000, 2)} s (${fmt(worker.ms / host.ms, 2)}× the provisioner alone) and ${fmt((cpu(worker) - cpu(host)) / 1000, 2)} CPU s; ` +
        `the path needs ${fmt(cpu(worker) / 1000, 2)} CPU s against docker cp's ${fmt(cpu(row.paths[direction]["docker cp"]) / 1000, 2)}, so on ${cores} cores it cannot pass ${fmt(row.paths[direction]["docker cp"].ms / (cpu(worker) / cores), 2)}× docker cp's measured time`,
    );
  }
  return [
    `where the time goes at ${row.sizeMb} MiB (CPU seconds per party from /proc: client = the bench process with the children it ran, e.g. docker cp; worker runtime = the Worker's process group (wrangler and workerd, or Miniflare's); docker engine = dockerd, containerd and shims):`,
    table(["direction", "path", "s", "MB/s", "vs docker cp", ...PARTIES.map(([, label]) => `${label} CPU s`), "CPU s", "cores busy", `best vs cp on ${cores} cores`], rows),
    ...lines,
  ];
}
