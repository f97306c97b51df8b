import type Docker from "dockerode";
import { listSessionContainers } from "./containers/sessions.ts";
import { gpuId } from "./gpus/inventory.ts";
import { type GpuReading, readGpus } from "./gpus/nvidia-smi.ts";
import type { Services } from "./services.ts";

/** The subset of Docker's stats answer that the numbers below come from. */
export type DockerStats = {
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
};

/** CPU use as `docker stats` computes it: 100 = one core busy. Null without two samples. */
export function cpuPercent(stats: DockerStats): number | null {
  const total = stats.cpu_stats?.cpu_usage?.total_usage;
  const previousTotal = stats.precpu_stats?.cpu_usage?.total_usage;
  const system = stats.cpu_stats?.system_cpu_usage;
  const previousSystem = stats.precpu_stats?.system_cpu_usage;
  if (total === undefined || previousTotal === undefined || system === undefined || previousSystem === undefined) return null;
  const cpuDelta = total - previousTotal;
  const systemDelta = system - previousSystem;
  const cpus = stats.cpu_stats?.online_cpus || stats.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  if (systemDelta <= 0 || cpuDelta < 0 || cpus === 0) return null;
  return Math.round((cpuDelta / systemDelta) * cpus * 100 * 100) / 100;
}

/** Memory in use as `docker stats` shows it: usage less the reclaimable page cache. */
export function memoryUsedBytes(stats: DockerStats): number | null {
  const usage = stats.memory_stats?.usage;
  if (usage === undefined) return null;
  const details = stats.memory_stats?.stats ?? {};
  const inactive = details.total_inactive_file ?? details.inactive_file ?? 0; // cgroup v1 ?? v2
  return Math.max(0, usage - inactive);
}

export type GpuMetrics = GpuReading & { id: string; sessionId: string | null };

export type ContainerMetrics = {
  sessionId: string;
  workspaceId: string;
  tenantId: string;
  containerId: string;
  state: string;
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  memoryLimitBytes: number | null;
  /** One per GPU the container holds; the numbers are null when nvidia-smi cannot be read. */
  gpus: { id: string; index: number | null; utilizationPercent: number | null; memoryUsedMb: number | null; memoryTotalMb: number | null }[];
  shell: { attached: number; lastActivityAt: string | null };
};

export type HostMetrics = {
  collectedAt: string;
  nvidiaSmiAvailable: boolean;
  gpus: GpuMetrics[];
  containers: ContainerMetrics[];
};

async function containerStats(docker: Docker, containerId: string): Promise<DockerStats | null> {
  try {
    // stream:false: Docker takes two samples about a second apart, so CPU use can be computed.
    return (await docker.getContainer(containerId).stats({ stream: false })) as DockerStats;
  } catch {
    return null; // removed meanwhile
  }
}

/** GPU use per GPU and per container, CPU and memory per container. Nothing is estimated. */
export async function collectMetrics(services: Services): Promise<HostMetrics> {
  const [readings, containers] = await Promise.all([readGpus(services.config.nvidiaSmi), listSessionContainers(services.docker)]);
  const holders = new Map<string, string>();
  for (const container of containers) for (const id of container.gpus) holders.set(id, container.sessionId);
  const byId = new Map<string, GpuReading>();
  for (const reading of readings ?? []) {
    byId.set(gpuId(reading), reading);
    byId.set(String(reading.index), reading);
  }

  const metrics = await Promise.all(
    containers.map(async (container): Promise<ContainerMetrics> => {
      const stats = container.state === "running" ? await containerStats(services.docker, container.containerId) : null;
      return {
        sessionId: container.sessionId,
        workspaceId: container.workspaceId,
        tenantId: container.tenantId,
        containerId: container.containerId,
        state: container.state,
        cpuPercent: stats ? cpuPercent(stats) : null,
        memoryUsedBytes: stats ? memoryUsedBytes(stats) : null,
        memoryLimitBytes: stats?.memory_stats?.limit ?? null,
        gpus: container.gpus.map((id) => {
          const reading = byId.get(id);
          return {
            id,
            index: reading?.index ?? null,
            utilizationPercent: reading?.utilizationPercent ?? null,
            memoryUsedMb: reading?.memoryUsedMb ?? null,
            memoryTotalMb: reading?.memoryTotalMb ?? null,
          };
        }),
        shell: services.shells.status(container.sessionId),
      };
    }),
  );

  return {
    collectedAt: new Date().toISOString(),
    nvidiaSmiAvailable: readings !== null,
    gpus: (readings ?? []).map((reading) => {
      const id = gpuId(reading);
      return { ...reading, id, sessionId: holders.get(id) ?? holders.get(String(reading.index)) ?? null };
    }),
    containers: metrics,
  };
}
