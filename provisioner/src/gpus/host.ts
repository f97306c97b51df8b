import type Docker from "dockerode";
import { LABELS } from "../containers/spec.ts";
import type { Services } from "../services.ts";
import { buildInventory, type Inventory } from "./inventory.ts";
import { readGpus } from "./nvidia-smi.ts";

/**
 * Which session holds which GPU, from the `ozekai.gpus` label of every container that exists —
 * running, stopped or only created — so the answer survives a provisioner restart.
 */
export async function gpuHolders(docker: Docker): Promise<Map<string, string>> {
  const containers = await docker.listContainers({ all: true, filters: { label: [LABELS.gpus] } });
  const holders = new Map<string, string>();
  for (const container of containers) {
    const session = container.Labels?.[LABELS.session] ?? container.Id;
    for (const id of (container.Labels?.[LABELS.gpus] ?? "").split(",").filter(Boolean)) holders.set(id, session);
  }
  return holders;
}

/** This host's GPUs (nvidia-smi) and who holds each (Docker labels). */
export async function readInventory(services: Services): Promise<Inventory> {
  const [readings, holders] = await Promise.all([readGpus(services.config.nvidiaSmi), gpuHolders(services.docker)]);
  return buildInventory(readings, holders);
}
