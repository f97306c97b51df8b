import { type GpuReading, gpuTypeOf } from "./nvidia-smi.ts";

export type InventoryGpu = {
  /** The id given to Docker (DeviceIDs) and kept in the `ozekai.gpus` label: the GPU's UUID. */
  id: string;
  index: number;
  uuid: string | null;
  name: string;
  type: string;
  memoryTotalMb: number | null;
  /** The session whose container holds this GPU, from Docker labels; null when free. */
  inUseBy: string | null;
};

export type Inventory = {
  /** false when nvidia-smi is missing or failed: the host then offers no GPU. */
  nvidiaSmiAvailable: boolean;
  gpus: InventoryGpu[];
  total: Record<string, number>;
  free: Record<string, number>;
};

/**
 * The id a GPU is given by: its UUID, which (unlike the index) does not change when the driver
 * enumerates GPUs in another order after a reboot. The index only when nvidia-smi has no UUID.
 */
export function gpuId(gpu: Pick<GpuReading, "uuid" | "index">): string {
  return gpu.uuid ?? String(gpu.index);
}

/** `holders` maps a GPU id (from container labels) to the session that holds it. */
export function buildInventory(readings: GpuReading[] | null, holders: ReadonlyMap<string, string>): Inventory {
  const gpus = (readings ?? []).map((reading): InventoryGpu => {
    const id = gpuId(reading);
    return {
      id,
      index: reading.index,
      uuid: reading.uuid,
      name: reading.name,
      type: gpuTypeOf(reading.name),
      memoryTotalMb: reading.memoryTotalMb,
      inUseBy: holders.get(id) ?? holders.get(String(reading.index)) ?? null,
    };
  });
  const total: Record<string, number> = {};
  const free: Record<string, number> = {};
  for (const gpu of gpus) {
    total[gpu.type] = (total[gpu.type] ?? 0) + 1;
    free[gpu.type] = (free[gpu.type] ?? 0) + (gpu.inUseBy === null ? 1 : 0);
  }
  return { nvidiaSmiAvailable: readings !== null, gpus, total, free };
}

/** Picks `count` free GPUs of `gpuType` (case-insensitive), lowest index first; null if there are too few. */
export function pickFreeGpus(inventory: Inventory, gpuType: string, count: number): string[] | null {
  const wanted = gpuType.toLowerCase();
  const candidates = inventory.gpus
    .filter((gpu) => gpu.inUseBy === null && gpu.type.toLowerCase() === wanted)
    .sort((a, b) => a.index - b.index);
  return candidates.length >= count ? candidates.slice(0, count).map((gpu) => gpu.id) : null;
}
