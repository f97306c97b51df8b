/** The docker side of the comparison: by hand, what a connect makes (a network, a volume, a container as the provisioner runs it). */
import { BENCH_LABEL, dockerOk, RUN_ID } from "../lib/docker.ts";
import { WORKSPACE_IMAGE } from "../lib/settings.ts";
import { PLAN } from "./settings.ts";
/** `docker run -d` with what the provisioner gives a session container (provisioner/src/containers/spec.ts). */
function runArgs(name: string, network: string, volume: string): string[] {
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
    `${PLAN.memoryMb}m`,
    "--memory-swap",
    `${PLAN.memoryMb}m`,
    "--cpus",
    String(PLAN.cpus),
    "--pids-limit",
    String(PLAN.pidsLimit),
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
    WORKSPACE_IMAGE,
  ];
}

export interface RawContainer {
  name: string;
  network: string;
  volume: string;
}

/** The same work as a connect, by hand: a network, a volume, then `docker run -d`; each timed. */
export async function rawRun(tag: string) {
  const raw: RawContainer = { name: `ozkbench-${RUN_ID}-${tag}`, network: `ozkbench-${RUN_ID}-${tag}`, volume: `ozkbench-${RUN_ID}-${tag}` };
  const network = await dockerOk(["network", "create", "--driver", "bridge", "--label", BENCH_LABEL, raw.network]);
  const volume = await dockerOk(["volume", "create", "--label", BENCH_LABEL, raw.volume]);
  const run = await dockerOk(runArgs(raw.name, raw.network, raw.volume));
  const state = (await dockerOk(["inspect", "--format", "{{.State.Status}}", raw.name])).stdout.trim();
  if (state !== "running") throw new Error(`raw container ${raw.name} is ${state}`);
  return { raw, networkMs: network.ms, volumeMs: volume.ms, runMs: run.ms };
}

/** A reconnect's work by hand: the container removed, then `docker run -d` again on the network and volume that are there. */
export async function rawRunAgain(raw: RawContainer): Promise<number> {
  await dockerOk(["rm", "-f", raw.name]);
  return (await dockerOk(runArgs(raw.name, raw.network, raw.volume))).ms;
}

/** The least a reconnect could cost: `docker start` of the stopped container. */
export async function rawStart(raw: RawContainer): Promise<number> {
  await dockerOk(["stop", "-t", "0", raw.name]);
  const start = await dockerOk(["start", raw.name]);
  const state = (await dockerOk(["inspect", "--format", "{{.State.Status}}", raw.name])).stdout.trim();
  if (state !== "running") throw new Error(`raw container ${raw.name} is ${state}`);
  return start.ms;
}

export async function rawRemove(raw: RawContainer) {
  await dockerOk(["rm", "-f", raw.name]);
  await dockerOk(["volume", "rm", raw.volume]);
  await dockerOk(["network", "rm", raw.network]);
}
