/**
 * `npm run bench:cold`: a benchmark, not a test. Cold storage throughput: archive and restore
 * against a plain `tar` of the same workspace on the host, as a ratio (docs/decisions/0010-cold-storage.md).
 * One run starts, once per Worker runtime (BENCH_RUNTIMES, default "wrangler,miniflare"; each a
 * stack of its own), the Worker (the deployable bundle under `wrangler dev --local --no-bundle
 * --test-scheduled`, then under Miniflare's own HTTP server: the workerd path production has;
 * local D1 and R2) and the provisioner (`node provisioner/src/main.ts`, local Docker, its state dir
 * in a temp dir), makes one user with a workspace holding one file of random bytes, and per round,
 * side by side:
 *   - plain tar: `tar -c` of the workspace volume into a file on the host, and `tar -x` of that file
 *     into a fresh volume (each in a container of the workspace image mounting the volume);
 *   - archive: the cold-storage cron tick (scheduled handler, triggered until the workspace is cold:
 *     stage on the host, parts verified and uploaded to R2, hot copy deleted);
 *   - restore: connect (POST /v1/sessions) on the cold workspace, less a connect on a hot one
 *     measured in the same round (what is left is the restore).
 *   - the host alone (the provisioner reached straight, bench/cold/host-alone.ts): stage, every part
 *     read as the Worker reads them, and the staged bytes imported into a fresh workspace;
 * and once (under the first runtime), the stage and its parts read on the host alone at part sizes of 8 to 64 MiB, and each
 * step alone on the same bytes (bench/cold/components.ts): SHA-256, Docker's archive API, zstd at
 * several levels on the random file and on text (this repository's files).
 * Throughput is the workspace's bytes (the file) over wall time; ratios are cold storage / plain tar.
 * What the Worker's runtime, wrangler dev's local proxy, local R2 and D1 cost together is the
 * archive (restore) less the host's share measured alone in the same round.
 * Settings: BENCH_COLD_MB (file size, default 256), BENCH_ROUNDS (default 2), BENCH_PART_MIB (16),
 * BENCH_TEXT_MB (text for the zstd levels, default 64).
 * Nothing but 127.0.0.1 and the local Docker socket is contacted; everything made is removed at the
 * end (docker objects of the bench user and of this run, temp dirs), also on error or Ctrl-C.
 */
import { randomBytes } from "node:crypto";
import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { BENCH_LABEL, dockerOk, RUN_ID, removeLeftoversAtCleanup, trackLabel, trackVolume } from "./lib/docker.ts";
import { expect } from "./lib/http.ts";
import { fmt, fmtLoad, mbps, median, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { positiveInt, WORKSPACE_IMAGE } from "./lib/settings.ts";
import { startSessionStack } from "./lib/stack.ts";
import { stopChild } from "./lib/processes.ts";
import { benchRuntimes, type WorkerRuntime } from "./lib/worker.ts";
import { dockerArchiveReadMs, sha256Ms, writeTextCorpus, zstdLevels } from "./cold/components.ts";
import { type HostAlone, hostAlone, stageAndRead } from "./cold/host-alone.ts";
import { localR2Alone } from "./cold/local-r2.ts";
import { timed } from "./lib/time.ts";
import { httpUpload } from "./lib/transfer.ts";

const FILE_MB = positiveInt("BENCH_COLD_MB", 256);
const ROUNDS = positiveInt("BENCH_ROUNDS", 2);
const PART_MIB = positiveInt("BENCH_PART_MIB", 16);
const TEXT_MB = positiveInt("BENCH_TEXT_MB", 64);
/** Parts the host alone is read with at once (as the Worker reads them). */
const HOST_PARALLEL = 4;
/** Part sizes compared on the host alone (stage, then every part read). */
const PART_SIZES_MIB = [8, 16, 32, 64];
/** zstd threads in the level comparison: the provisioner's (provisioner/src/workspaces/compression.ts). */
const ZSTD_THREADS = 2;
const MB = 1e6;
/** A tar of the workspace may take this long. */
const TAR_TIMEOUT_MS = 600_000;

removeLeftoversAtCleanup({ report: false });

/** A file of `bytes` random bytes. */
function writeRandomFile(path: string, bytes: number) {
  const fd = openSync(path, "w");
  try {
    for (let written = 0; written < bytes; written += 4 * MB) writeSync(fd, randomBytes(Math.min(4 * MB, bytes - written)));
  } finally {
    closeSync(fd);
  }
}

type Round = { tarC: number; tarX: number; archive: number; restore: number; connectHot: number; ticks: number } & HostAlone;

/**
 * One stack under `runtime` (its own temp dir, provisioner state and local D1/R2), the workspace
 * with its file, and ROUNDS rounds side by side. Returns the rounds and the stack, its workspace
 * left hot with no session (for the measurements made once).
 */
async function measureRounds(runtime: WorkerRuntime) {
  const tmp = makeTempDir(`ozekai-bench-cold-${runtime}-`);
  // ── the stack: archive as soon as the workspace is idle, all in one tick ──
  const stack = await startSessionStack(tmp, {
    username: `cold${runtime.slice(0, 2)}${RUN_ID}`,
    planId: "cpu-small",
    timeoutMs: 600_000,
    env: ["WORKSPACE_COLD_AFTER_DAYS=0", `COLD_STORAGE_PART_MIB=${PART_MIB}`, "COLD_STORAGE_PARTS_PER_TICK=10000", "COLD_STORAGE_TICK_SECONDS=600"],
    runtime,
    ...(runtime === "wrangler" ? { wranglerArgs: ["--test-scheduled"] } : {}),
    provisionerEnv: { PROVISIONER_STATE_DIR: join(tmp, "provisioner-state") },
  });
  const { api, host } = stack;
  const base = api.base;

  // ── the workspace: one file of random bytes ──
  const bytes = FILE_MB * MB;
  const file = join(tmp, "blob.bin");
  writeRandomFile(file, bytes);
  const session = (await expect(api, "POST", "/v1/sessions", [201])).json as { id: string; workspaceId: string };
  const volume = `ozk-ws-${session.workspaceId}`;
  trackVolume(volume);
  trackLabel(`ozekai.helper=${session.workspaceId}`);
  const upload = await httpUpload(`${base}/v1/workspace/files/blob.bin`, api.token!, file, bytes);
  if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${upload.text}`);
  rmSync(file, { force: true });
  let sessionId = session.id;

  const rows: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // A connect on the hot workspace, to subtract from the restoring connect below.
    await expect(api, "POST", `/v1/sessions/${sessionId}/disconnect`, [200]);
    const hot = await timed(() => expect(api, "POST", "/v1/sessions", [201]));
    sessionId = (hot.value.json as { id: string }).id;
    await expect(api, "POST", `/v1/sessions/${sessionId}/disconnect`, [200]);

    // Plain tar of the same volume on the host, out to a file and back into a fresh volume.
    const tarC = await dockerOk(["run", "--rm", "--label", BENCH_LABEL, "--network", "none", "-v", `${volume}:/w:ro`, "-v", `${tmp}:/out`, WORKSPACE_IMAGE, "tar", "-cf", "/out/plain.tar", "-C", "/w", "."], TAR_TIMEOUT_MS);
    const target = `ozk-bench-${RUN_ID}-${runtime}-${round}`;
    trackVolume(target);
    await dockerOk(["volume", "create", "--label", BENCH_LABEL, target]);
    const tarX = await dockerOk(["run", "--rm", "--label", BENCH_LABEL, "--network", "none", "-v", `${target}:/w`, "-v", `${tmp}:/in:ro`, WORKSPACE_IMAGE, "tar", "-xf", "/in/plain.tar", "-C", "/w"], TAR_TIMEOUT_MS);
    await dockerOk(["volume", "rm", target]);
    rmSync(join(tmp, "plain.tar"), { force: true });

    // The host alone: its share of an archive and of a restore, without the Worker or R2.
    const alone = await hostAlone(host, session.workspaceId, `${runtime}-${round}`, tmp, PART_MIB * 2 ** 20, HOST_PARALLEL);

    // Archive: cron ticks (each runs the whole minute list) until the workspace is cold.
    let ticks = 0;
    const archive = await timed(async () => {
      for (; ticks < 20; ) {
        ticks++;
        const tick = await fetch(`${base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}&time=${Date.now() + 1000}`);
        await tick.text();
        const status = (await expect(api, "GET", "/v1/workspace", [200])).json as { state: string };
        if (status.state === "cold") return;
      }
      throw new Error("the workspace is not cold after 20 ticks");
    });

    // Restore: connect on the cold workspace.
    const restored = await timed(() => expect(api, "POST", "/v1/sessions", [201]));
    sessionId = (restored.value.json as { id: string }).id;
    rows.push({ tarC: tarC.ms, tarX: tarX.ms, archive: archive.ms, restore: restored.ms - hot.ms, connectHot: hot.ms, ticks, ...alone });
    log(
      `${runtime} round ${round}: tar -c ${fmt(tarC.ms, 0)} ms, tar -x ${fmt(tarX.ms, 0)} ms, host alone: stage ${fmt(alone.stageMs, 0)} ms, parts ${fmt(alone.partsMs, 0)} ms, import ${fmt(alone.importMs, 0)} ms; archive ${fmt(archive.ms, 0)} ms (${ticks} ticks), restoring connect ${fmt(restored.ms, 0)} ms (hot connect ${fmt(hot.ms, 0)} ms)`,
    );
  }
  // The workspace must have no container for what is measured once (its session ends).
  await expect(api, "POST", `/v1/sessions/${sessionId}/disconnect`, [200]);
  return { rows, stack, tmp, workspaceId: session.workspaceId, volume };
}

async function main() {
  log(`cpus ${cpus().length}, load ${fmtLoad(loadavg())}; file ${FILE_MB} MB, ${ROUNDS} rounds, parts of ${PART_MIB} MiB; runtimes ${benchRuntimes().join(", ")}`);
  const runs: { runtime: WorkerRuntime; rows: Round[]; load: number[] }[] = [];
  const [first, ...others] = benchRuntimes();
  const measured = await measureRounds(first!);
  runs.push({ runtime: first!, rows: measured.rows, load: loadavg() });
  const { stack, tmp, workspaceId, volume } = measured;
  const { api, host } = stack;

  // Part sizes on the host alone.
  log(`part sizes on the host alone: ${PART_SIZES_MIB.join(", ")} MiB …`);
  const partSizes: { mib: number; parts: number; stageMs: number; partsMs: number }[] = [];
  for (const mib of PART_SIZES_MIB) {
    const read = await stageAndRead(host, workspaceId, `parts-${mib}`, join(tmp, "staged.bin"), mib * 2 ** 20, HOST_PARALLEL);
    partSizes.push({ mib, parts: read.manifest.partHashes.length, stageMs: read.stageMs, partsMs: read.partsMs });
  }

  // Each step alone, on the same bytes: a plain tar of the workspace and a text corpus of the same kind of size.
  log("each step alone: SHA-256, Docker's archive API, zstd levels …");
  const tarFile = join(tmp, "plain.tar");
  await dockerOk(["run", "--rm", "--label", BENCH_LABEL, "--network", "none", "-v", `${volume}:/w:ro`, "-v", `${tmp}:/out`, WORKSPACE_IMAGE, "tar", "-cf", "/out/plain.tar", "-C", "/w", "."], TAR_TIMEOUT_MS);
  const tarBytes = statSync(tarFile).size;
  const hashMs = await sha256Ms(tarFile);
  const archiveApiMs = await dockerArchiveReadMs(volume);
  log("local R2 alone …");
  const r2 = await localR2Alone(tmp, tarFile, tarBytes, PART_MIB * 2 ** 20, HOST_PARALLEL);
  const text = join(tmp, "text.bin");
  writeTextCorpus(text, TEXT_MB * MB);
  const levels = await zstdLevels(
    [
      { data: "random", path: tarFile, bytes: tarBytes },
      { data: "text", path: text, bytes: TEXT_MB * MB },
    ],
    ZSTD_THREADS,
    tmp,
  );
  rmSync(tarFile, { force: true });
  // Destroyed through the API: the provisioner unmounts and deletes its disk, which lies in this
  // run's temp dir (removing the Docker volume alone would leave the disk mounted there).
  await expect(api, "DELETE", "/v1/workspace", [200]);

  for (const runtime of others) {
    await stopChild(stack.worker.child);
    await stopChild(stack.provisioner.child);
    const other = await measureRounds(runtime);
    runs.push({ runtime, rows: other.rows, load: loadavg() });
    await expect(other.stack.api, "DELETE", "/v1/workspace", [200]);
  }

  const bytes = FILE_MB * MB;
  for (const { runtime, rows, load } of runs) {
    const under = runtime === "wrangler" ? "wrangler dev --local" : "Miniflare's HTTP server (no wrangler proxy Worker)";
    const proxy = runtime === "wrangler" ? "Worker runtime, wrangler dev's proxy" : "Worker runtime";
    report(rows, bytes, under, proxy, load, { putMBps: mbps(tarBytes, r2.putMs), getMBps: mbps(tarBytes, r2.getMs), archiveApiMBps: mbps(tarBytes, archiveApiMs) });
  }
  console.log(`\nEach step alone on the ${fmt(tarBytes / MB, 0)} MB tar: SHA-256 in Node ${fmt(hashMs, 0)} ms (${fmt(mbps(tarBytes, hashMs), 0)} MB/s); Docker's archive API read (docker cp out) ${fmt(archiveApiMs, 0)} ms (${fmt(mbps(tarBytes, archiveApiMs), 0)} MB/s, ${fmt(mbps(tarBytes, archiveApiMs) / mbps(bytes, median(runs[0]!.rows.map((r) => r.tarC))), 2)}× tar -c)`);
  const tarC = mbps(bytes, median(runs[0]!.rows.map((r) => r.tarC)));
  const tarX = mbps(bytes, median(runs[0]!.rows.map((r) => r.tarX)));
  console.log(
    `Local R2 alone (Miniflare's R2 on this disk, a Worker that only puts ${PART_MIB} MiB parts ${HOST_PARALLEL} at a time and reads them back as ranges, bench/cold/local-r2.ts): ` +
      `put ${fmt(mbps(tarBytes, r2.putMs), 0)} MB/s (${fmt(mbps(tarBytes, r2.putMs) / tarC, 2)}× tar -c), ranged get ${fmt(mbps(tarBytes, r2.getMs), 0)} MB/s (${fmt(mbps(tarBytes, r2.getMs) / tarX, 2)}× tar -x): ` +
      "the archive and the restore cannot pass these here, whatever the host and the Worker do",
  );
  console.log(`\nPart sizes on the host alone (stage, then every part read ${HOST_PARALLEL} at a time over HTTP):\n`);
  const staged = median(runs[0]!.rows.map((r) => r.stagedBytes));
  console.log(
    table(
      ["part MiB", "parts", "stage ms", "parts read ms", "parts read MB/s"],
      partSizes.map((p) => [String(p.mib), String(p.parts), fmt(p.stageMs, 0), fmt(p.partsMs, 0), fmt(mbps(staged, p.partsMs), 0)]),
    ),
  );
  console.log(`\nzstd levels (-T${ZSTD_THREADS}; random: the workspace's tar; text: ${TEXT_MB} MB of this repository's files):\n`);
  console.log(
    table(
      ["data", "level", "compress MB/s", "decompress MB/s", "ratio"],
      levels.map((r) => [r.data, String(r.level), fmt(mbps(r.bytes, r.compressMs), 0), fmt(mbps(r.bytes, r.decompressMs), 0), fmt(r.ratio, 2)]),
    ),
  );
}

/** One runtime's rounds: medians against plain tar, the goals with what bounds a missed one, and where the time goes. */
function report(rows: Round[], bytes: number, under: string, proxy: string, load: number[], alone: { putMBps: number; getMBps: number; archiveApiMBps: number }) {
  const m = (key: keyof (typeof rows)[number]) => median(rows.map((r) => r[key]));
  console.log(`\n— the Worker under ${under}\n\nCold storage vs plain tar, ${FILE_MB} MB workspace, median of ${ROUNDS} rounds (load ${fmtLoad(load)} after them)\n`);
  console.log(
    table(
      ["", "plain tar ms", "plain tar MB/s", "cold storage ms", "cold storage MB/s", "ratio (cold/tar throughput)"],
      [
        ["archive (tar -c to a host file | stage + verified R2 upload + hot copy deleted)", fmt(m("tarC"), 0), fmt(mbps(bytes, m("tarC"))), fmt(m("archive"), 0), fmt(mbps(bytes, m("archive"))), fmt(m("tarC") / m("archive"), 2)],
        ["restore (tar -x into a fresh volume | R2 → verified import, connect less a hot connect)", fmt(m("tarX"), 0), fmt(mbps(bytes, m("tarX"))), fmt(m("restore"), 0), fmt(mbps(bytes, m("restore"))), fmt(m("tarX") / m("restore"), 2)],
      ],
    ),
  );
  console.log(`\nhot connect (subtracted from the restoring one): ${fmt(m("connectHot"), 0)} ms; part size ${PART_MIB} MiB; staged ${fmt(m("stagedBytes") / MB, 1)} MB for ${fmt(bytes / MB, 0)} MB of workspace`);

  const goal = (ratio: number) => (ratio >= 0.5 ? "met" : "not met");
  const tarC = mbps(bytes, m("tarC"));
  const tarX = mbps(bytes, m("tarX"));
  // What each path cannot pass here, measured alone on the same bytes (the lower of the two).
  const archiveWhy = `local R2 alone puts at ${fmt(alone.putMBps, 0)} MB/s (${fmt(alone.putMBps / tarC, 2)}×), Docker's archive API alone reads at ${fmt(alone.archiveApiMBps, 0)} MB/s (${fmt(alone.archiveApiMBps / tarC, 2)}×)`;
  const restoreWhy = `local R2 alone reads ranges at ${fmt(alone.getMBps, 0)} MB/s (${fmt(alone.getMBps / tarX, 2)}×)`;
  console.log("\nThe goals (≥ 0.5× plain tar):\n");
  console.log(
    table(
      ["path", "Ozekai", "baseline", "ratio", "goal", "why not, measured"],
      [
        [`archive ${FILE_MB} MB to cold storage`, `${fmt(mbps(bytes, m("archive")), 0)} MB/s`, `tar -c ${fmt(mbps(bytes, m("tarC")), 0)} MB/s`, `${fmt(m("tarC") / m("archive"), 2)}×`, goal(m("tarC") / m("archive")), m("tarC") / m("archive") >= 0.5 ? "" : archiveWhy],
        [`restore ${FILE_MB} MB from cold storage`, `${fmt(mbps(bytes, m("restore")), 0)} MB/s`, `tar -x ${fmt(mbps(bytes, m("tarX")), 0)} MB/s`, `${fmt(m("tarX") / m("restore"), 2)}×`, goal(m("tarX") / m("restore")), m("tarX") / m("restore") >= 0.5 ? "" : restoreWhy],
      ],
    ),
  );

  // Where the time goes: the host's share measured alone, the rest is the Worker side.
  const share = (ms: number, of: number) => `${fmt(ms, 0)} ms (${fmt((100 * ms) / of, 0)} %)`;
  const archiveRest = m("archive") - m("stageMs") - m("partsMs");
  const restoreRest = m("restore") - m("importMs");
  console.log(`\nWhere the time goes (medians; the host's share measured alone in the same round, parts read ${HOST_PARALLEL} at a time):\n`);
  console.log(
    table(
      ["archive", "ms"],
      [
        ["host: stage (Docker archive API → compress → SHA-256 of the whole and each part → file, fsync)", share(m("stageMs"), m("archive"))],
        ["host: every part read over HTTP", share(m("partsMs"), m("archive"))],
        [`Worker side: part SHA-256, R2 multipart upload, D1, ${proxy}, hot copy deleted (the rest)`, share(archiveRest, m("archive"))],
        ["archive (cron ticks until cold)", fmt(m("archive"), 0)],
      ],
    ),
  );
  console.log(
    table(
      ["restore", "ms"],
      [
        ["host: verified import (SHA-256, decompress, checked re-pack, Docker archive API)", share(m("importMs"), m("restore"))],
        [`Worker side: R2 read, lease and progress in D1, ${proxy} (the rest)`, share(restoreRest, m("restore"))],
        ["restore (restoring connect less a hot connect)", fmt(m("restore"), 0)],
      ],
    ),
  );
}

await runBench("bench:cold", main, 10_000);
