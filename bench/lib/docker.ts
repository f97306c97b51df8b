/**
 * The docker CLI, and the Docker objects a bench leaves behind: everything it makes by hand carries
 * BENCH_LABEL; what the provisioner makes for the bench user carries labels added with trackLabel.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { log, onCleanup } from "./run-bench.ts";
import { ROOT, WORKSPACE_IMAGE } from "./settings.ts";
export const RUN_ID = crypto.randomUUID().slice(0, 8);
/** Label on everything a bench makes with the docker CLI, so cleanup finds it (and only it). */
export const BENCH_LABEL = `ozekai.bench=${RUN_ID}`;

// ---------------------------------------------------------------------------------------------
// Leftovers, removed at cleanup on every exit path

/** Docker label filters (key=value) whose containers, volumes and networks are removed at the end. */
const labels = new Set<string>([BENCH_LABEL]);
/** Volumes removed at the end by name, labelled or not. */
const volumes = new Set<string>();

export const trackLabel = (label: string) => void labels.add(label);
export const trackVolume = (name: string) => void volumes.add(name);

const dockerLines = (args: string[]) => {
  const result = spawnSync("docker", args, { encoding: "utf8", timeout: 30_000 });
  return result.status === 0 ? result.stdout.split("\n").filter(Boolean) : [];
};

/** Removes every container, network and volume carrying a tracked label, and the tracked volumes. */
function sweepSync(): string[] {
  const removed: string[] = [];
  const quiet = (args: string[]) => spawnSync("docker", args, { stdio: "ignore", timeout: 60_000 });
  for (const label of labels) {
    const containers = dockerLines(["ps", "-aq", "--filter", `label=${label}`]);
    if (containers.length) {
      quiet(["rm", "-f", "-v", ...containers]);
      removed.push(`${containers.length} container(s) [${label}]`);
    }
  }
  for (const label of labels) {
    const labelled = dockerLines(["volume", "ls", "-q", "--filter", `label=${label}`]);
    if (labelled.length) {
      quiet(["volume", "rm", "-f", ...labelled]);
      removed.push(`${labelled.length} volume(s) [${label}]`);
    }
    const networks = dockerLines(["network", "ls", "-q", "--filter", `label=${label}`]);
    if (networks.length) {
      quiet(["network", "rm", ...networks]);
      removed.push(`${networks.length} network(s) [${label}]`);
    }
  }
  if (volumes.size) {
    const named = spawnSync("docker", ["volume", "rm", "-f", ...volumes], { encoding: "utf8", timeout: 60_000 });
    const count = named.status === 0 ? named.stdout.split("\n").filter(Boolean).length : 0;
    if (count) removed.push(`${count} volume(s) by name`);
  }
  return removed;
}

/** Sweeps the leftovers at cleanup; `report` logs what was still there. */
export function removeLeftoversAtCleanup(options: { report: boolean }) {
  onCleanup(() => {
    const removed = sweepSync();
    if (options.report && removed.length) log(`cleanup removed leftovers: ${removed.join(", ")}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

export interface DockerResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One docker CLI call, timed from spawn to exit (the CLI's own start-up included, as a user sees it). */
export function docker(args: string[], timeoutMs = 120_000): Promise<DockerResult> {
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

/** docker(), failing unless it exits 0. */
export async function dockerOk(args: string[], timeoutMs?: number): Promise<DockerResult> {
  const result = await docker(args, timeoutMs);
  if (result.code !== 0) throw new Error(`docker ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim().slice(-2000)}`);
  return result;
}

/** Fails unless the Docker engine answers; builds the workspace image if needed; the engine's version and the image's short id. */
export async function prepareWorkspaceImage() {
  if (spawnSync("docker", ["info"], { stdio: "ignore", timeout: 30_000 }).status !== 0) {
    throw new Error("the Docker engine is not reachable (start dockerd: bash scripts/ensure-docker.sh)");
  }
  log(`making sure ${WORKSPACE_IMAGE} exists (provisioner/scripts/build-workspace-image.sh) …`);
  const build = spawnSync("bash", [join(ROOT, "provisioner/scripts/build-workspace-image.sh"), WORKSPACE_IMAGE], { cwd: ROOT, encoding: "utf8", timeout: 300_000 });
  if (build.status !== 0) throw new Error(`build-workspace-image.sh failed:\n${build.stderr}`);
  const imageId = (await dockerOk(["image", "inspect", "--format", "{{.Id}}", WORKSPACE_IMAGE])).stdout.trim().slice(7, 19);
  const dockerVersion = (await dockerOk(["version", "--format", "{{.Server.Version}}"])).stdout.trim();
  return { imageId, dockerVersion };
}
