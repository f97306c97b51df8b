/**
 * `npm run bench:cli`: a benchmark, not a test. The `ozekai` CLI as a person runs it (the bin, a
 * subprocess, OZEKAI_TOKEN for the bench user) against the session stack (bench/lib/stack.ts), each
 * measurement beside its baseline in the same run, as a ratio (never a timed assertion):
 *   1. `ozekai upload` / `ozekai download` of one big file against `docker cp` of the same file
 *      into / out of the session's own container (goal ≥ 0.8×);
 *   2. the CLI's peak RSS for a small and a big file, up and down (flat: it streams);
 *   3. a directory of many small files (sent as tar batches) against `tar c | docker cp -` into the same container,
 *      and back (one stream) against `docker cp` out, `docker exec tar c | tar x` and the file-by-file download;
 *   4. `ozekai connect` to a usable session, new and warm workspace, against the same container work by hand.
 * A section is one entry of SECTIONS: add one by writing a function of the same shape.
 * Every section runs once per Worker runtime (BENCH_RUNTIMES, default "wrangler,miniflare"): wrangler
 * dev as `npm run dev` serves it, and Miniflare's own server, the path production has (workerd + provisioner).
 * Settings: BENCH_FILE_MB (default 1024; the small file is a quarter), BENCH_SMALL_FILES (2000),
 * BENCH_SECTIONS (names of SECTIONS, comma-separated: only those; default all), BENCH_ROUNDS (connects, 3).
 * Everything it starts or makes is removed at the end, also on error or Ctrl-C.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { docker, dockerOk, prepareWorkspaceImage, RUN_ID, removeLeftoversAtCleanup } from "./lib/docker.ts";
import { startProcess, stopChild, waitExit } from "./lib/processes.ts";
import { partyCpuMs, partyCpuTicks, rssSampler } from "./lib/proc.ts";
import { fmt, fmtLoad, mbps, median, mib, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { positiveInt, ROOT } from "./lib/settings.ts";
import { type SessionStack, startSessionStack } from "./lib/stack.ts";
import { MIB, transferTimeout } from "./lib/transfer.ts";
import { benchRuntimes } from "./lib/worker.ts";
import { makeFile, sha256File } from "./sessions/random-file.ts";
import { rawRun, rawRunAgain } from "./sessions/raw-container.ts";
import { apiConnect, apiDisconnectAndDestroy } from "./sessions/session-api.ts";
import { PLAN_ID, REQUEST_TIMEOUT_MS, RSS_SAMPLE_MS } from "./sessions/settings.ts";

removeLeftoversAtCleanup({ report: true });

const BIG_MB = positiveInt("BENCH_FILE_MB", 1024);
const SMALL_MB = Math.max(1, Math.round(BIG_MB / 4));
const SMALL_FILES = positiveInt("BENCH_SMALL_FILES", 2000);
const BIN = join(ROOT, "node_modules/.bin/ozekai");
const GOAL = 0.8;

interface Bench {
  stack: SessionStack;
  tmp: string;
  /** The session's container, the docker cp side of every comparison. */
  container: string;
}

interface CliRun {
  ms: number;
  peakRss: number;
  stdout: string;
}

/** `ozekai …args --json` as the bench user, timed from spawn to exit, its process group's peak RSS sampled. */
async function ozekai(bench: Bench, args: string[], timeoutMs: number): Promise<CliRun> {
  const started = performance.now();
  const run = startProcess(BIN, [...args, "--json"], { ...process.env, OZEKAI_API_URL: bench.stack.api.base, OZEKAI_TOKEN: bench.stack.api.token, OZEKAI_CONFIG_DIR: join(bench.tmp, "cli-config"), NO_COLOR: "1" });
  const sampler = rssSampler({ cli: run.child.pid! }, RSS_SAMPLE_MS);
  const code = await waitExit(run, timeoutMs);
  const ms = performance.now() - started;
  const peakRss = sampler.stop().cli ?? 0;
  if (code !== 0) throw new Error(`ozekai ${args.join(" ")} exited with ${code}:\n${run.output.text.slice(-3000)}`);
  return { ms, peakRss, stdout: run.output.text };
}

/** The session container the provisioner made for the bench user (not a transfer helper). */
async function sessionContainer(userId: string): Promise<string> {
  const listed = await dockerOk(["ps", "--filter", `label=ozekai.tenant=${userId}`, "--filter", "label=ozekai.session", "--format", "{{.Names}}"]);
  const name = listed.stdout.trim().split("\n").filter(Boolean)[0];
  if (!name) throw new Error("no running session container for the bench user");
  return name;
}

/** 1 and 2: one big and one small file up and down, through the CLI and with docker cp. */
async function bigFiles(bench: Bench): Promise<string[]> {
  const rows: string[][] = [];
  const rss: Record<number, { up: number; down: number }> = {};
  const ratios: Record<number, { up: number; down: number }> = {};
  // CPU seconds of every party during each transfer (client = this process and what it ran: the CLI, docker cp).
  const groups = { worker: bench.stack.worker.child.pid!, provisioner: bench.stack.provisioner.child.pid! };
  const cpu: Record<string, Record<string, number>> = {};
  let cpInMs = 0;
  let cpOutMs = 0;
  const withCpu = async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = partyCpuTicks(groups);
    const value = await work();
    cpu[key] = partyCpuMs(before, partyCpuTicks(groups));
    return value;
  };
  for (const sizeMb of [SMALL_MB, BIG_MB]) {
    const bytes = sizeMb * MIB;
    const name = `bench-${sizeMb}MiB.bin`;
    const source = join(bench.tmp, name);
    log(`files: writing a ${sizeMb} MiB file …`);
    const sha = makeFile(source, sizeMb);
    const timeout = transferTimeout(bytes) * 2;

    log(`files: ${sizeMb} MiB ozekai upload …`);
    const up = await withCpu(`up ${sizeMb}`, () => ozekai(bench, ["upload", source, name], timeout));
    log(`files: ${sizeMb} MiB docker cp in …`);
    const cpIn = await withCpu(`cp in ${sizeMb}`, () => dockerOk(["cp", source, `${bench.container}:/workspace/cp-${name}`], timeout));

    const back = join(bench.tmp, `back-${name}`);
    log(`files: ${sizeMb} MiB ozekai download …`);
    const down = await withCpu(`down ${sizeMb}`, () => ozekai(bench, ["download", name, back], timeout));
    if ((await sha256File(back)) !== sha) throw new Error(`download of ${name}: the bytes differ`);
    const cpBack = join(bench.tmp, `cp-back-${name}`);
    log(`files: ${sizeMb} MiB docker cp out …`);
    const cpOut = await withCpu(`cp out ${sizeMb}`, () => dockerOk(["cp", `${bench.container}:/workspace/cp-${name}`, cpBack], timeout));
    if (statSync(cpBack).size !== bytes) throw new Error("docker cp out: wrong size");
    await docker(["exec", bench.container, "rm", "-f", `/workspace/cp-${name}`]);

    ratios[sizeMb] = { up: cpIn.ms / up.ms, down: cpOut.ms / down.ms };
    cpInMs = cpIn.ms;
    cpOutMs = cpOut.ms;
    rss[sizeMb] = { up: up.peakRss, down: down.peakRss };
    rows.push([`${sizeMb} MiB`, "upload", fmt(mbps(bytes, up.ms)), fmt(mbps(bytes, cpIn.ms)), `${fmt(ratios[sizeMb]!.up, 2)}×`, mib(up.peakRss)]);
    rows.push([`${sizeMb} MiB`, "download", fmt(mbps(bytes, down.ms)), fmt(mbps(bytes, cpOut.ms)), `${fmt(ratios[sizeMb]!.down, 2)}×`, mib(down.peakRss)]);
  }
  const big = ratios[BIG_MB]!;
  const met = big.up >= GOAL && big.down >= GOAL;
  return [
    `1. One file through the CLI (SHA-256 verified end to end) vs docker cp into/out of the session's container (MB/s = 10^6 bytes/s, each run from spawn to exit)`,
    table(["size", "direction", "ozekai MB/s", "docker cp MB/s", "ozekai/cp", "CLI peak RSS"], rows),
    `at ${BIG_MB} MiB: upload ${fmt(big.up, 2)}×, download ${fmt(big.down, 2)}× docker cp (goal ≥ ${GOAL}×: ${met ? "met" : "missed"})`,
    ...(["up", "down"] as const).map((way) => {
      const ours = cpu[`${way} ${BIG_MB}`]!;
      const theirs = cpu[`cp ${way === "up" ? "in" : "out"} ${BIG_MB}`]!;
      const total = (parts: Record<string, number>) => Object.values(parts).reduce((a, b) => a + b, 0);
      const cpMs = way === "up" ? cpInMs : cpOutMs;
      return (
        `   ${way === "up" ? "upload" : "download"} CPU s: ozekai ${fmt(total(ours) / 1000, 2)} (CLI and this process ${fmt(ours.client! / 1000, 2)}, Worker runtime ${fmt(ours.worker! / 1000, 2)}, provisioner ${fmt(ours.provisioner! / 1000, 2)}, Docker's engine ${fmt(ours.docker! / 1000, 2)}) ` +
        `vs docker cp ${fmt(total(theirs) / 1000, 2)}: on ${cpus().length} cores the path cannot pass ${fmt(cpMs / (total(ours) / cpus().length), 2)}× docker cp's time`
      );
    }),
    "",
    `2. CLI peak RSS, ${SMALL_MB} MiB → ${BIG_MB} MiB (${fmt(BIG_MB / SMALL_MB, 0)}× the bytes): upload ${mib(rss[SMALL_MB]!.up)} → ${mib(rss[BIG_MB]!.up)} (${fmt(rss[BIG_MB]!.up / rss[SMALL_MB]!.up, 2)}×), download ${mib(rss[SMALL_MB]!.down)} → ${mib(rss[BIG_MB]!.down)} (${fmt(rss[BIG_MB]!.down / rss[SMALL_MB]!.down, 2)}×); flat is ≈ 1×`,
  ];
}

/** 3: many small files, through the CLI (several at once) vs one tar stream through docker cp. */
async function smallFiles(bench: Bench): Promise<string[]> {
  const dir = join(bench.tmp, "many");
  log(`files: writing ${SMALL_FILES} files of 4 KiB …`);
  for (let i = 0; i < SMALL_FILES; i++) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), crypto.getRandomValues(new Uint8Array(4096)));
  }
  log(`files: ${SMALL_FILES} files, ozekai upload …`);
  const up = await ozekai(bench, ["upload", dir, "cli/"], 30 * 60_000);
  log(`files: ${SMALL_FILES} files, tar c | docker cp - …`);
  const started = performance.now();
  const tar = startProcess("sh", ["-c", `tar c -C "$1" many | docker cp - "$2":/workspace/`, "tar-cp", bench.tmp, bench.container], process.env);
  const code = await waitExit(tar, 10 * 60_000);
  const tarMs = performance.now() - started;
  if (code !== 0) throw new Error(`tar | docker cp exited with ${code}: ${tar.output.text.slice(-2000)}`);
  const bytes = SMALL_FILES * 4096;

  // The same directory back: one stream (GET /v1/workspace/archive?path=), the file-by-file path
  // (--sync into an empty directory), and Docker's own two ways out.
  const same = (into: string) => {
    for (let i = 0; i < SMALL_FILES; i += 97) {
      const name = join(`d${Math.floor(i / 100)}`, `f${i}.bin`);
      if (!readFileSync(join(into, name)).equals(readFileSync(join(dir, name)))) throw new Error(`${into}: ${name} differs`);
    }
  };
  log(`files: ${SMALL_FILES} files, ozekai download (one stream) …`);
  const down = await ozekai(bench, ["download", "cli/many", join(bench.tmp, "down-stream")], 30 * 60_000);
  same(join(bench.tmp, "down-stream"));
  log(`files: ${SMALL_FILES} files, ozekai download --sync (file by file) …`);
  const perFile = await ozekai(bench, ["download", "--sync", "cli/many", join(bench.tmp, "down-per-file")], 30 * 60_000);
  same(join(bench.tmp, "down-per-file"));
  log(`files: ${SMALL_FILES} files, docker cp out …`);
  const cpOut = await dockerOk(["cp", `${bench.container}:/workspace/cli/many`, join(bench.tmp, "down-cp")], 10 * 60_000);
  same(join(bench.tmp, "down-cp"));
  log(`files: ${SMALL_FILES} files, docker exec tar c | tar x …`);
  mkdirSync(join(bench.tmp, "down-tar"));
  const tarOutStarted = performance.now();
  const tarOut = startProcess("sh", ["-c", `docker exec "$1" tar c -C /workspace/cli many | tar x -C "$2"`, "tar-out", bench.container, join(bench.tmp, "down-tar")], process.env);
  const tarOutCode = await waitExit(tarOut, 10 * 60_000);
  const tarOutMs = performance.now() - tarOutStarted;
  if (tarOutCode !== 0) throw new Error(`docker exec tar c | tar x exited with ${tarOutCode}: ${tarOut.output.text.slice(-2000)}`);
  same(join(bench.tmp, "down-tar", "many"));
  const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;
  return [
    `3. ${SMALL_FILES} files of 4 KiB (${mib(bytes)}): ozekai upload ${fmt(up.ms / 1000, 2)} s (${fmt(SMALL_FILES / (up.ms / 1000), 0)} files/s), tar c | docker cp - ${fmt(tarMs / 1000, 2)} s: ${fmt(tarMs / up.ms, 3)}× (files under 1 MiB go as tar batches, PUT /v1/workspace/archive; each file's SHA-256 still checked)`,
    `   the same directory down (each file's SHA-256 checked against the host's manifest): ozekai download ${secs(down.ms)} (${fmt(SMALL_FILES / (down.ms / 1000), 0)} files/s, one stream, GET /v1/workspace/archive?path=)`,
    `   vs docker cp out ${secs(cpOut.ms)}: ${fmt(cpOut.ms / down.ms, 3)}×; vs docker exec tar c | tar x ${secs(tarOutMs)}: ${fmt(tarOutMs / down.ms, 3)}×; vs ozekai download --sync (file by file) ${secs(perFile.ms)}: ${fmt(perFile.ms / down.ms, 1)}× faster`,
  ];
}

/** BENCH_SECTIONS="small files": only the sections named (comma-separated); all by default. */
const ONLY = (process.env.BENCH_SECTIONS ?? "").split(",").map((name) => name.trim()).filter(Boolean);

/**
 * 4. `ozekai connect` to a usable session (it exits once a command has run in the container), as
 * a person times it from spawn to exit, against the same container work by hand: into a new
 * workspace (after `ozekai destroy`) vs network + volume + `docker run -d`, and into the warm
 * workspace (after `ozekai disconnect`) vs `docker run -d` on the network and volume already
 * there. BENCH_ROUNDS each; the section ends disconnected.
 */
async function connectToUsable(bench: Bench): Promise<string[]> {
  const rounds = positiveInt("BENCH_ROUNDS", 3);
  const first = { ours: [] as number[], byHand: [] as number[] };
  const warm = { ours: [] as number[], byHand: [] as number[] };
  for (let round = 1; round <= rounds; round++) {
    log(`connect: round ${round} of ${rounds} …`);
    await ozekai(bench, ["disconnect"], REQUEST_TIMEOUT_MS);
    await ozekai(bench, ["destroy", "--yes"], REQUEST_TIMEOUT_MS);
    first.ours.push((await ozekai(bench, ["connect", "--no-shell"], 4 * REQUEST_TIMEOUT_MS)).ms);
    const made = await rawRun(`cli-connect-${bench.stack.runtime}-${round}`);
    first.byHand.push(made.networkMs + made.volumeMs + made.runMs);
    await ozekai(bench, ["disconnect"], REQUEST_TIMEOUT_MS);
    warm.ours.push((await ozekai(bench, ["connect", "--no-shell"], 4 * REQUEST_TIMEOUT_MS)).ms);
    warm.byHand.push(await rawRunAgain(made.raw));
  }
  await ozekai(bench, ["disconnect"], REQUEST_TIMEOUT_MS);
  const line = (what: string, runs: { ours: number[]; byHand: number[] }, baseline: string) => {
    const [ours, byHand] = [median(runs.ours), median(runs.byHand)];
    return `   ${what}: ozekai connect ${fmt(ours, 0)} ms, ${baseline} ${fmt(byHand, 0)} ms: ${fmt(ours / byHand, 2)}×`;
  };
  return [
    `4. connect to a usable session (ozekai connect --no-shell, spawn to exit: the CLI's start, sign-in check, the API and a first command in the container), median of ${rounds}`,
    line("new workspace", first, "docker network create + volume create + run -d"),
    line("warm workspace", warm, "docker run -d on the existing network and volume"),
  ];
}

/** The sections in order; each adds its lines to the report. */
const SECTIONS: { name: string; run: (bench: Bench) => Promise<string[]> }[] = [
  { name: "big files", run: bigFiles },
  { name: "small files", run: smallFiles },
  { name: "connect", run: connectToUsable },
];

async function main() {
  const startedAt = performance.now();
  const loadAtStart = loadavg();
  const { imageId, dockerVersion } = await prepareWorkspaceImage();
  const out = [
    "",
    `Ozekai CLI benchmark — node ${process.versions.node}, Docker ${dockerVersion}, ${cpus().length} CPUs, load average at start ${fmtLoad(loadAtStart)}, ${new Date().toISOString()}`,
    `(the ozekai bin as a subprocess; the Worker bundle, local D1 and R2; provisioner on local Docker; image ${imageId}; plan ${PLAN_ID})`,
    "",
  ];
  // Each runtime gets its own stack and user: wrangler dev (what `npm run dev` serves, a proxy
  // Worker in front) and Miniflare's own server (workerd as production runs the Worker).
  for (const runtime of benchRuntimes()) {
    const tmp = makeTempDir(`ozekai-bench-cli-${runtime}-`);
    const stack = await startSessionStack(tmp, { username: `benchcli${runtime.slice(0, 2)}${RUN_ID}`, planId: PLAN_ID, timeoutMs: REQUEST_TIMEOUT_MS, runtime });
    const { session } = await apiConnect(stack.api);
    out.push(`— the Worker under ${runtime === "wrangler" ? "wrangler dev --local" : "Miniflare's HTTP server (no wrangler proxy)"} (stack ready in ${fmt(stack.startupS)} s)`, "");
    try {
      const bench: Bench = { stack, tmp, container: await sessionContainer(stack.userId) };
      for (const section of SECTIONS.filter((one) => ONLY.length === 0 || ONLY.includes(one.name))) {
        log(`${runtime}, section: ${section.name}`);
        out.push(...(await section.run(bench)), "");
      }
    } finally {
      await apiDisconnectAndDestroy(stack.api, session).catch((error) => log(`disconnect/destroy failed (cleanup sweeps it): ${String(error)}`));
      await stopChild(stack.worker.child);
      await stopChild(stack.provisioner.child);
    }
  }
  out.push(`load average at end ${fmtLoad(loadavg())}; total bench time ${fmt((performance.now() - startedAt) / 1000)} s`);
  console.log(out.join("\n"));
}

await runBench("bench:cli", main, 3000);
