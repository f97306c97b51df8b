/** Cold storage settings (docs/decisions/0010-cold-storage.md). */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface ColdStorageConfig {
  /** A hot workspace unused this long is archived to R2 (policy §6: "may be moved to cold storage at any time"). */
  coldAfterMs: number;
  /** Fixed size of every part but the last: R2 needs ≥ 5 MiB, and the Worker holds one part in memory to verify it. */
  partSizeBytes: number;
  /** Work per cron tick, so a tick ends in time and the next one continues. */
  partsPerTick: number;
  tickMs: number;
}

const coldStorageEnvSchema = z.object({
  WORKSPACE_COLD_AFTER_DAYS: z.coerce.number().min(0).max(3650).default(7),
  COLD_STORAGE_PART_MIB: z.coerce.number().int().min(5).max(64).default(16),
  COLD_STORAGE_PARTS_PER_TICK: z.coerce.number().int().min(1).max(10_000).default(64),
  COLD_STORAGE_TICK_SECONDS: z.coerce.number().int().min(1).max(600).default(30),
});

export function parseColdStorageConfig(env: Env): ColdStorageConfig {
  const e = parseEnv(coldStorageEnvSchema, env);
  return {
    coldAfterMs: e.WORKSPACE_COLD_AFTER_DAYS * 24 * 60 * 60 * 1000,
    partSizeBytes: e.COLD_STORAGE_PART_MIB * 1024 * 1024,
    partsPerTick: e.COLD_STORAGE_PARTS_PER_TICK,
    tickMs: e.COLD_STORAGE_TICK_SECONDS * 1000,
  };
}
