import { execFile } from "node:child_process";

/** The exact query the provisioner runs; the parser reads its columns in this order. */
export const NVIDIA_SMI_ARGS = [
  "--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total",
  "--format=csv,noheader,nounits",
] as const;

/** One GPU as nvidia-smi reports it. A value nvidia-smi does not know is null, never guessed. */
export type GpuReading = {
  index: number;
  uuid: string | null;
  name: string;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
};

/** "[N/A]", "[Not Supported]", "[Unknown Error]", "[GPU is lost]", ... and a bare "N/A". */
function isUnavailable(value: string): boolean {
  return value === "" || value === "N/A" || /^\[.*\]$/.test(value);
}

function numberOrNull(value: string): number | null {
  if (isUnavailable(value)) return null;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : null;
}

/**
 * Parses the output of `nvidia-smi ${NVIDIA_SMI_ARGS}`. Lines that do not have the six columns or
 * a valid index are skipped (nvidia-smi prints warnings on stdout in some driver states).
 */
export function parseNvidiaSmiCsv(output: string): GpuReading[] {
  const gpus: GpuReading[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length !== 6) continue;
    const [index, uuid, name, utilization, memoryUsed, memoryTotal] = fields as [string, string, string, string, string, string];
    if (!/^\d+$/.test(index) || isUnavailable(name)) continue;
    gpus.push({
      index: Number(index),
      uuid: isUnavailable(uuid) ? null : uuid,
      name,
      utilizationPercent: numberOrNull(utilization),
      memoryUsedMb: numberOrNull(memoryUsed),
      memoryTotalMb: numberOrNull(memoryTotal),
    });
  }
  return gpus.sort((a, b) => a.index - b.index);
}

/**
 * The GPU model a plan asks for, from the marketing name: "NVIDIA H100 80GB HBM3" → "H100",
 * "NVIDIA A100-SXM4-80GB" → "A100", "Tesla T4" → "T4", "NVIDIA GeForce RTX 4090" → "RTX 4090".
 */
export function gpuTypeOf(name: string): string {
  const words = name
    .replace(/^(NVIDIA\s+)?((Tesla|GeForce|Quadro)\s+)?/i, "")
    .trim()
    .split(/\s+/);
  const first = (words[0] ?? "").split("-")[0] ?? "";
  if (/^(RTX|GTX|TITAN)$/i.test(first) && words[1]) return `${first} ${words[1].split("-")[0]}`;
  return first;
}

/**
 * Runs nvidia-smi. Returns null when it is missing, fails or times out (a host without NVIDIA):
 * callers then report GPU fields as null rather than inventing values.
 */
export function readGpus(nvidiaSmi: string, timeoutMs = 10_000): Promise<GpuReading[] | null> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      resolve(error ? null : parseNvidiaSmiCsv(stdout));
    });
  });
}
