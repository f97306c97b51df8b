import { execFile } from "node:child_process";

/**
 * The columns the provisioner asks nvidia-smi for, and the unit each numeric one is printed in.
 * The answer is read by column name from its header line, so the order does not matter and extra
 * columns (a recording made with a longer query) are ignored.
 */
const COLUMNS = {
  index: { name: "index", unit: null },
  uuid: { name: "uuid", unit: null },
  name: { name: "name", unit: null },
  utilizationPercent: { name: "utilization.gpu", unit: "%" },
  memoryUsedMb: { name: "memory.used", unit: "MiB" },
  memoryTotalMb: { name: "memory.total", unit: "MiB" },
} as const;

/**
 * The exact query the provisioner runs. `--format=csv` keeps the header (the parser needs it) and
 * the units, exactly as the recorded outputs in test/fixtures/nvidia-smi/recorded/ were made.
 */
export const NVIDIA_SMI_ARGS = [`--query-gpu=${Object.values(COLUMNS).map((column) => column.name).join(",")}`, "--format=csv"] as const;

/** One GPU as nvidia-smi reports it. A value nvidia-smi does not know is null, never guessed. */
export type GpuReading = {
  index: number;
  uuid: string | null;
  name: string;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
};

/** nvidia-smi answered, but not in the shape asked for (no header, a column missing, another unit). */
export class NvidiaSmiOutputError extends Error {
  override name = "NvidiaSmiOutputError";
}

/** "[N/A]", "[Not Supported]", "[Unknown Error]", "[GPU is lost]", ... and a bare "N/A". */
function isUnavailable(value: string): boolean {
  return value === "" || value === "N/A" || /^\[.*\]$/.test(value);
}

/** "143771 MiB" (or "143771" from a query with nounits) → 143771; anything else → null. */
function numberOrNull(value: string, unit: string): number | null {
  if (isUnavailable(value)) return null;
  const bare = value.endsWith(` ${unit}`) ? value.slice(0, -unit.length - 1) : value;
  return /^\d+(\.\d+)?$/.test(bare) ? Number(bare) : null;
}

/** A header field: a property name, with its unit in brackets when it has one ("memory.used [MiB]"). */
const HEADER_FIELD = /^([A-Za-z_][\w.]*)(?: \[([^\]]+)\])?$/;

/** The header line's columns by name, or null when the line is not a header (a warning, a data row). */
function headerColumns(line: string): Map<string, { position: number; unit: string | null }> | null {
  const columns = new Map<string, { position: number; unit: string | null }>();
  const fields = line.split(",").map((field) => field.trim());
  if (fields.length < 2) return null; // a one-word warning is not a header
  for (const [position, field] of fields.entries()) {
    const match = HEADER_FIELD.exec(field);
    if (!match) return null;
    columns.set(match[1] as string, { position, unit: match[2] ?? null });
  }
  return columns;
}

/**
 * Parses what `nvidia-smi ${NVIDIA_SMI_ARGS}` prints: a header line, then one line per GPU. Lines
 * before the header and rows without the header's column count are skipped (nvidia-smi prints
 * warnings on stdout in some driver states), as is a GPU without a valid index or a known name (a
 * lost GPU). Throws NvidiaSmiOutputError when there is no header, a queried column is missing or a
 * number comes in another unit: a changed format must not turn into GPUs with null numbers.
 */
export function parseNvidiaSmiCsv(output: string): GpuReading[] {
  const lines = output.split(/\r?\n/).filter((line) => line.trim() !== "");
  const headerAt = lines.findIndex((line) => headerColumns(line) !== null);
  if (headerAt === -1) throw new NvidiaSmiOutputError("nvidia-smi printed no CSV header line");
  const header = headerColumns(lines[headerAt] as string)!;
  const position = {} as Record<keyof typeof COLUMNS, number>;
  for (const [key, { name, unit }] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, (typeof COLUMNS)[keyof typeof COLUMNS]][]) {
    const column = header.get(name);
    if (!column) throw new NvidiaSmiOutputError(`nvidia-smi printed no "${name}" column`);
    if (column.unit !== unit) throw new NvidiaSmiOutputError(`nvidia-smi printed "${name}" in [${column.unit}], not [${unit}]`);
    position[key] = column.position;
  }

  const gpus: GpuReading[] = [];
  for (const line of lines.slice(headerAt + 1)) {
    const fields = line.split(",").map((field) => field.trim());
    if (fields.length !== header.size) continue;
    const field = (key: keyof typeof COLUMNS) => fields[position[key]] as string;
    if (!/^\d+$/.test(field("index")) || isUnavailable(field("name"))) continue;
    gpus.push({
      index: Number(field("index")),
      uuid: isUnavailable(field("uuid")) ? null : field("uuid"),
      name: field("name"),
      utilizationPercent: numberOrNull(field("utilizationPercent"), COLUMNS.utilizationPercent.unit),
      memoryUsedMb: numberOrNull(field("memoryUsedMb"), COLUMNS.memoryUsedMb.unit),
      memoryTotalMb: numberOrNull(field("memoryTotalMb"), COLUMNS.memoryTotalMb.unit),
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
 * Runs nvidia-smi. Returns null when it is missing, fails, times out (a host without NVIDIA) or
 * answers in a shape the parser refuses (logged): callers then report GPU fields as null rather
 * than inventing values.
 */
export function readGpus(nvidiaSmi: string, timeoutMs = 10_000): Promise<GpuReading[] | null> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, [...NVIDIA_SMI_ARGS], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      if (error) return resolve(null);
      try {
        resolve(parseNvidiaSmiCsv(stdout));
      } catch (parseError) {
        // The message names columns and units only: nothing from the host's GPUs.
        console.error(JSON.stringify({ level: "error", event: "nvidia_smi_unreadable", message: (parseError as Error).message }));
        resolve(null);
      }
    });
  });
}
