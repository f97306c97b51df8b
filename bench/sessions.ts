/**
 * `npm run bench:sessions`: a benchmark, not a test. One run starts the Worker (the deployable bundle
 * under `wrangler dev --local --no-bundle`, local D1 with the migrations applied) and the provisioner
 * (`node provisioner/src/main.ts`, driving the local Docker Engine) on free 127.0.0.1 ports, makes
 * one verified user on plan `cpu-small`, and prints
 *   1. connect latency: POST /v1/sessions until it answers with a running container (image warm)
 *      against a raw `docker run -d` of the same image with the same isolation options (its own
 *      network and volume), interleaved, N rounds, a fresh container each time (disconnect and
 *      destroy between connects); medians and their ratio (target ≤ 1.5×);
 *   2. file transfer: upload and download of one file through the Worker
 *      (PUT/GET /v1/workspace/files/{path}) against `docker cp` of the same file into and out of a
 *      container, MB/s and ratios (target ≥ 0.5×), with the peak RSS of the Worker runtime
 *      (wrangler + workerd) and of the provisioner during each transfer, for two file sizes.
 *      Skipped, with a note, while the Worker has no such routes.
 * Settings: BENCH_ROUNDS (default 5), BENCH_FILE_MB (largest file, default 1024; the other is a quarter).
 * Nothing but 127.0.0.1 and the local Docker socket is contacted. Everything it starts or makes —
 * child processes, containers, volumes and networks (its own and those the provisioner made for the
 * bench user), the temp dir with generated secrets, local D1 state and files — is removed at the
 * end, also on error or Ctrl-C.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, createReadStream, createWriteStream, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { findPlan } from "../workers/domain/plans.ts";
import {
  type Api,
  expect,
  fmt,
  fmtLoad,
  HOST,
  log,
  makeTempDir,
  median,
  onCleanup,
  procStats,
  ROOT,
  runBench,
  sleep,
  table,
  type SessionStack,
  startSessionStack,
} from "./lib.ts";

// ---------------------------------------------------------------------------------------------
// Settings

const IMAGE = "ozekai/workspace:local"; // wrangler.toml WORKSPACE_IMAGE
const PLAN_ID = "cpu-small";
const ROUNDS = positiveInt("BENCH_ROUNDS", 5);
const FILE_MB = positiveInt("BENCH_FILE_MB", 1024);
const FILE_SIZES_MB = [...new Set([Math.max(1, Math.round(FILE_MB / 4)), FILE_MB])];
const RSS_SAMPLE_MS = 100;
const REQUEST_TIMEOUT_MS = 60_000;
const CONNECT_POLL_MS = 50;
/** A transfer may take this long per MiB (plus a minute) before it is abandoned: ≥ ~2 MB/s. */
const TRANSFER_MS_PER_MIB = 500;
const RUN_ID = crypto.randomUUID().slice(0, 8);
/** Label on everything this bench makes with the docker CLI, so cleanup finds it (and only it). */
const BENCH_LABEL = `ozekai.bench=${RUN_ID}`;

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Cleanup of Docker objects (lib.ts does the child processes and temp dirs), on every exit path.

/** Docker label filters (key=value) whose containers, volumes and networks are removed at the end. */
const dockerLabels = new Set<string>([BENCH_LABEL]);

const dockerLines = (args: string[]) => {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: 30_000 });
  return result.status === 0 ? result.stdout.split("\n").filter(Boolean) : [];
};

/** Removes every container, volume and network carrying one of the registered labels. */
function dockerSweepSync(): string[] {
  const removed: string[] = [];
  for (const label of dockerLabels) {
    const containers = dockerLines(["ps", "-aq", "--filter", `label=${label}`]);
    if (containers.length) {
      spawnSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore", timeout: 60_000 });
      removed.push(`${containers.length} container(s) [${label}]`);
    }
  }
  for (const label of dockerLabels) {
    const volumes = dockerLines(["volume", "ls", "-q", "--filter", `label=${label}`]);
    if (volumes.length) {
      spawnSync("docker", ["volume", "rm", "-f", ...volumes], { stdio: "ignore", timeout: 60_000 });
      removed.push(`${volumes.length} volume(s) [${label}]`);
    }
    const networks = dockerLines(["network", "ls", "-q", "--filter", `label=${label}`]);
    if (networks.length) {
      spawnSync("docker", ["network", "rm", ...networks], { stdio: "ignore", timeout: 60_000 });
      removed.push(`${networks.length} network(s) [${label}]`);
    }
  }
  return removed;
}

onCleanup(() => {
  const removed = dockerSweepSync();
  if (removed.length) log(`cleanup removed leftovers: ${removed.join(", ")}`);
});

// ---------------------------------------------------------------------------------------------
// Helpers

const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;
const MIB = 2 ** 20;

interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One docker CLI call, timed from spawn to exit (the CLI's own start-up included, as a user sees it). */
function docker(args: string[], timeoutMs = 120_000): Promise<DockerResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn("docker", args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(-100_000);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-100_000);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${error.message}`, ms: performance.now() - started });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

async function dockerOk(args: string[], timeoutMs?: number): Promise<DockerResult> {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim().slice(-2000)}`);
  return result;
}

/** Sum of VmRSS (bytes) over the live processes of each process group, from /proc (NaN without /proc). */
function groupRss(pgids: number[]): Map<number, number> {
  const procs = procStats();
  if (!procs) return new Map(pgids.map((pgid) => [pgid, Number.NaN])); // not Linux
  const totals = new Map(pgids.map((pgid) => [pgid, 0]));
  for (const { pid, fields } of procs) {
    const pgid = Number(fields[2]);
    if (!totals.has(pgid)) continue;
    try {
      const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) totals.set(pgid, totals.get(pgid)! + Number(rss[1]) * 1024);
    } catch {
      // exited meanwhile
    }
  }
  return totals;
}

/** Samples the RSS of some process groups every RSS_SAMPLE_MS; `stop()` gives each group's peak. */
function rssSampler(groups: Record<string, number>) {
  const peaks: Record<string, number> = {};
  const sample = () => {
    const rss = groupRss(Object.values(groups));
    for (const [name, pgid] of Object.entries(groups)) peaks[name] = Math.max(peaks[name] ?? 0, rss.get(pgid)!);
  };
  sample();
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Setup: the Worker bundle, the provisioner, the Worker under wrangler dev, and one bench user.

async function startStack(tmp: string): Promise<SessionStack> {
  const stack = await startSessionStack(tmp, { username: `bench${RUN_ID}`, planId: PLAN_ID, timeoutMs: REQUEST_TIMEOUT_MS });
  // What the provisioner makes for this user carries its tenant label: cleanup removes it by that.
  dockerLabels.add(`ozekai.tenant=${stack.userId}`);
  log(`bench user ${stack.username} (tenant ${stack.userId}); docker objects of this run are labelled ${BENCH_LABEL} or ozekai.tenant=${stack.userId}`);
  return stack;
}

// ---------------------------------------------------------------------------------------------
// 1. Connect latency

interface SessionView {
  id: string;
  state: string;
  workspaceId: string;
}

/** POST /v1/sessions, then (on 202) GET /v1/sessions/{id} until the container runs; wall ms. */
async function apiConnect(api: Api): Promise<{ ms: number; session: SessionView }> {
  const started = performance.now();
  const reply = await expect(api, "POST", "/v1/sessions", [200, 201, 202]);
  let session = reply.json as SessionView;
  // Transfer helpers are labelled with the workspace only.
  dockerLabels.add(`ozekai.helper=${session.workspaceId}`);
  while (session.state === "starting") {
    await sleep(CONNECT_POLL_MS);
    session = (await expect(api, "GET", `/v1/sessions/${session.id}`, [200])).json as SessionView;
  }
  const ms = performance.now() - started;
  if (session.state !== "running") throw new Error(`connect ended in state ${session.state}`);
  return { ms, session };
}

async function apiDisconnectAndDestroy(api: Api, session: SessionView) {
  const disconnect = performance.now();
  await expect(api, "POST", `/v1/sessions/${session.id}/disconnect`, [200]);
  const destroy = performance.now();
  await expect(api, "DELETE", "/v1/workspace", [200]);
  return { disconnectMs: destroy - disconnect, destroyMs: performance.now() - destroy };
}

/** `docker run -d` with what the provisioner gives a session container (provisioner/src/containers/spec.ts). */
function runArgs(name: string, network: string, volume: string): string[] {
  const plan = findPlan(PLAN_ID)!;
  return [
    "run",
    "-d",
    "--name",
    name,
    "--label",
    BENCH_LABEL,
    "--network",
    network,
    "--mount",
    `type=volume,src=${volume},dst=/workspace`,
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges:true",
    "--memory",
    `${plan.memoryMb}m`,
    "--memory-swap",
    `${plan.memoryMb}m`,
    "--cpus",
    String(plan.cpus),
    "--pids-limit",
    String(plan.pidsLimit),
    "--ipc",
    "private",
    "--init",
    "--log-driver",
    "none",
    "--restart",
    "no",
    "--workdir",
    "/workspace",
    "-e",
    "NVIDIA_VISIBLE_DEVICES=void",
    IMAGE,
  ];
}

interface RawContainer {
  name: string;
  network: string;
  volume: string;
}

/** The same work as a connect, by hand: a network, a volume, then `docker run -d`; each timed. */
async function rawRun(tag: string) {
  const raw: RawContainer = { name: `ozkbench-${RUN_ID}-${tag}`, network: `ozkbench-${RUN_ID}-${tag}`, volume: `ozkbench-${RUN_ID}-${tag}` };
  const network = await dockerOk(["network", "create", "--driver", "bridge", "--label", BENCH_LABEL, raw.network]);
  const volume = await dockerOk(["volume", "create", "--label", BENCH_LABEL, raw.volume]);
  const run = await dockerOk(runArgs(raw.name, raw.network, raw.volume));
  const state = (await dockerOk(["inspect", "--format", "{{.State.Status}}", raw.name])).stdout.trim();
  if (state !== "running") throw new Error(`raw container ${raw.name} is ${state}`);
  return { raw, networkMs: network.ms, volumeMs: volume.ms, runMs: run.ms };
}

async function rawRemove(raw: RawContainer) {
  await dockerOk(["rm", "-f", raw.name]);
  await dockerOk(["volume", "rm", raw.volume]);
  await dockerOk(["network", "rm", raw.network]);
}

interface ConnectRound {
  apiMs: number;
  runMs: number;
  allMs: number;
  disconnectMs: number;
  destroyMs: number;
}

async function connectLatency(api: Api): Promise<ConnectRound[]> {
  log("connect: warm-up round (not counted) …");
  const warm = await apiConnect(api);
  await apiDisconnectAndDestroy(api, warm.session);
  await rawRemove((await rawRun("warm")).raw);

  const rounds: ConnectRound[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    log(`connect: round ${round}/${ROUNDS} …`);
    const result: Partial<ConnectRound> = {};
    // Alternate which goes first, so neither always runs right after the other's cleanup.
    const order = round % 2 ? (["api", "raw"] as const) : (["raw", "api"] as const);
    for (const which of order) {
      if (which === "api") {
        const { ms, session } = await apiConnect(api);
        Object.assign(result, { apiMs: ms }, await apiDisconnectAndDestroy(api, session));
      } else {
        const r = await rawRun(String(round));
        Object.assign(result, { runMs: r.runMs, allMs: r.networkMs + r.volumeMs + r.runMs });
        await rawRemove(r.raw);
      }
    }
    rounds.push(result as ConnectRound);
  }
  return rounds;
}

// ---------------------------------------------------------------------------------------------
// 2. File transfer

interface TransferResult {
  status: number;
  bytes: number;
  ms: number;
  text: string;
}

const transferTimeout = (bytes: number) => 60_000 + (bytes / MIB) * TRANSFER_MS_PER_MIB;

/** Streams a local file as the raw body of one request; resolves with the answer once it is read. */
function httpUpload(url: string, token: string, file: string, size: number): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      url,
      { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream", "Content-Length": String(size) } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text = (text + chunk).slice(0, 100_000);
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes: size, ms: performance.now() - started, text }));
        res.on("error", reject);
      },
    );
    req.setTimeout(transferTimeout(size), () => req.destroy(new Error(`upload timed out after ${transferTimeout(size)} ms`)));
    req.on("error", reject);
    // An early answer (413, 404) ends the body mid-way: the answer is what counts then.
    pipeline(createReadStream(file, { highWaterMark: MIB }), req).catch(() => undefined);
  });
}

/** Streams one response body into a local file. */
function httpDownload(url: string, token: string, dest: string, expected: number): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { method: "GET", headers: { Authorization: `Bearer ${token}` } }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text = (text + chunk).slice(0, 100_000);
        });
        res.on("end", () => resolve({ status, bytes: 0, ms: performance.now() - started, text }));
        return;
      }
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      pipeline(res, createWriteStream(dest, { highWaterMark: MIB })).then(
        () => resolve({ status, bytes, ms: performance.now() - started, text: "" }),
        reject,
      );
    });
    req.setTimeout(transferTimeout(expected), () => req.destroy(new Error(`download timed out after ${transferTimeout(expected)} ms`)));
    req.on("error", reject);
    req.end();
  });
}

/** A file of `sizeMb` MiB of incompressible bytes; returns its sha256 (computed while writing, untimed). */
function makeFile(path: string, sizeMb: number): string {
  const block = randomBytes(MIB);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const hash = createHash("sha256");
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < sizeMb; i++) {
      view.setUint32(0, i); // no two MiB alike
      for (let off = 4096; off < MIB; off += 4096) view.setUint32(off, (i * 2654435761 + off) >>> 0);
      writeSync(fd, block);
      hash.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { highWaterMark: MIB }), hash);
  return hash.digest("hex");
}

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

interface TransferRow {
  sizeMb: number;
  upload: TransferResult;
  download: TransferResult;
  cpIn: DockerResult;
  cpOut: DockerResult;
  /** Peak RSS (bytes) during each API transfer, and just before them. */
  rssIdle: Record<string, number>;
  rssUpload: Record<string, number>;
  rssDownload: Record<string, number>;
  verified: string;
}

type FileOutcome = { skipped: string } | { rows: TransferRow[]; routeNote: string };

async function fileTransfer(stack: SessionStack, tmp: string): Promise<FileOutcome> {
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

      await sleep(500); // let the RSS settle after the previous size
      const rssIdle = rssSampler(groups).stop();
      log(`files: ${sizeMb} MiB upload through the Worker …`);
      let sampler = rssSampler(groups);
      const upload = await httpUpload(url, api.token!, source, bytes);
      const rssUpload = sampler.stop();
      if (upload.status === 404) return { skipped: `PUT ${new URL(url).pathname} answered 404: ${upload.text.slice(0, 300)}` };
      if (upload.status < 200 || upload.status > 299) throw new Error(`upload: ${upload.status} ${upload.text.slice(0, 500)}`);

      log(`files: ${sizeMb} MiB docker cp into a container …`);
      const cpIn = await dockerOk(["cp", source, `${box.raw.name}:/workspace/${name}`], transferTimeout(bytes));

      log(`files: ${sizeMb} MiB download through the Worker …`);
      sampler = rssSampler(groups);
      const download = await httpDownload(url, api.token!, back, bytes);
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

      log(`files: ${sizeMb} MiB docker cp out of the container …`);
      const cpOut = await dockerOk(["cp", `${box.raw.name}:/workspace/${name}`, back], transferTimeout(bytes));
      if (statSync(back).size !== bytes) throw new Error(`docker cp out: ${statSync(back).size} bytes, expected ${bytes}`);
      checks.push("docker cp size");
      rmSync(back, { force: true });
      rmSync(source, { force: true });
      rows.push({ sizeMb, upload, download, cpIn, cpOut, rssIdle, rssUpload, rssDownload, verified: checks.join(", ") });
    }
  } finally {
    await apiDisconnectAndDestroy(api, session).catch((error) => log(`files: disconnect/destroy failed (cleanup sweeps it): ${String(error)}`));
    await rawRemove(box.raw).catch(() => undefined);
  }
  return { rows, routeNote: routes.note };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const startedAt = performance.now();
  const loadAtStart = loadavg();
  if (spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status !== 0) {
    throw new Error("the Docker engine is not reachable (start dockerd: bash scripts/ensure-docker.sh)");
  }
  log(`making sure ${IMAGE} exists (provisioner/scripts/build-workspace-image.sh) …`);
  const build = spawnSync("bash", [join(ROOT, "provisioner/scripts/build-workspace-image.sh"), IMAGE], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (build.status !== 0) throw new Error(`build-workspace-image.sh failed:\n${build.stderr}`);
  const imageId = (await dockerOk(["image", "inspect", "--format", "{{.Id}}", IMAGE])).stdout.trim().slice(7, 19);
  const dockerVersion = (await dockerOk(["version", "--format", "{{.Server.Version}}"])).stdout.trim();

  const tmp = makeTempDir("ozekai-bench-sessions-");
  const stack = await startStack(tmp);
  const loadBeforeConnect = loadavg();
  const rounds = await connectLatency(stack.api);
  const loadBeforeFiles = loadavg();
  const files = await fileTransfer(stack, tmp);
  const loadAtEnd = loadavg();

  const plan = findPlan(PLAN_ID)!;
  const out: string[] = [];
  out.push(
    "",
    `Ozekai sessions benchmark — node ${process.versions.node}, Docker ${dockerVersion}, ${cpus().length} CPUs, load average at start ${fmtLoad(loadAtStart)}, ${new Date().toISOString()}`,
    `(Worker bundle under wrangler dev --local, local D1; provisioner on ${HOST}; image ${IMAGE} ${imageId}; plan ${PLAN_ID}: ${plan.cpus} CPU, ${plan.memoryMb} MiB, ${plan.pidsLimit} pids; stack ready in ${fmt(stack.startupS)} s)`,
    "",
  );

  out.push(`1. Connect latency, image warm: POST /v1/sessions until "running" vs docker run -d with the same options (${ROUNDS} interleaved rounds after one warm-up; ms)`);
  const rows = rounds.map((r, i) => [`round ${i + 1}`, fmt(r.apiMs), fmt(r.runMs), fmt(r.allMs), `${fmt(r.apiMs / r.runMs, 2)}×`, `${fmt(r.apiMs / r.allMs, 2)}×`, fmt(r.disconnectMs), fmt(r.destroyMs)]);
  const m = (pick: (r: ConnectRound) => number) => median(rounds.map(pick));
  const [apiMed, runMed, allMed] = [m((r) => r.apiMs), m((r) => r.runMs), m((r) => r.allMs)];
  rows.push(["median", fmt(apiMed), fmt(runMed), fmt(allMed), `${fmt(apiMed / runMed, 2)}×`, `${fmt(apiMed / allMed, 2)}×`, fmt(m((r) => r.disconnectMs)), fmt(m((r) => r.destroyMs))]);
  out.push(table(["round", "API connect", "docker run -d", "net+vol+run", "API/run", "API/net+vol+run", "API disconnect", "API destroy"], rows));
  const verdict = apiMed / runMed <= 1.5 ? "meets" : "misses";
  out.push(
    `ratio of medians API / docker run -d: ${fmt(apiMed / runMed, 2)}× (${verdict} the ≤ 1.5× target); API / (docker network create + volume create + run -d), the same work a connect does: ${fmt(apiMed / allMed, 2)}×`,
    "(docker columns include the docker CLI's own start-up per command; each API connect made a new network, volume and container: the previous round destroyed the workspace)",
    `(load average ${fmtLoad(loadBeforeConnect)} before this section)`,
    "",
  );

  out.push(`2. File transfer through the Worker vs docker cp (sizes ${FILE_SIZES_MB.map((s) => `${s} MiB`).join(" and ")}; MB/s = 10^6 bytes/s)`);
  if ("skipped" in files) {
    out.push(`SKIPPED: ${files.skipped}. Rerun once the routes exist; nothing else in this section was measured.`);
  } else {
    const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);
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
      `at ${largest.sizeMb} MiB: upload ${fmt(upRatio, 2)}×, download ${fmt(downRatio, 2)}× docker cp (target ≥ 0.5×: ${upRatio >= 0.5 && downRatio >= 0.5 ? "met" : "missed"})`,
    );
    if (files.rows.length > 1) {
      const peak = (r: TransferRow, who: "worker" | "provisioner") => Math.max(r.rssUpload[who]!, r.rssDownload[who]!);
      out.push(
        `peak RSS from ${smallest.sizeMb} MiB to ${largest.sizeMb} MiB (${fmt(largest.sizeMb / smallest.sizeMb, 0)}× the bytes): ` +
          `worker runtime ${mib(peak(smallest, "worker"))} → ${mib(peak(largest, "worker"))}, provisioner ${mib(peak(smallest, "provisioner"))} → ${mib(peak(largest, "provisioner"))}`,
      );
    }
    out.push(
      `(load average ${fmtLoad(loadBeforeFiles)} before this section, ${fmtLoad(loadAtEnd)} after; route ${files.routeNote}; verified: ${largest.verified}. worker = the wrangler dev process group (wrangler's Node process + workerd), provisioner = its Node process; VmRSS sampled every ${RSS_SAMPLE_MS} ms)`,
    );
  }
  out.push("", `total bench time ${fmt((performance.now() - startedAt) / 1000)} s`);
  console.log(out.join("\n"));
}

await runBench("bench:sessions", main, 3000);
