/** Usage data: how long the per-minute samples stay before only their hourly rollups remain. */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface UsageConfig {
  /** Days the per-minute usage samples are kept; the hourly rollups keep 12 months. */
  samplesDays: number;
}

const usageEnvSchema = z.object({
  // At least two days: the idle disconnect and the live chart read the last hours; at most 30, so
  // the per-minute rows never make up most of the database.
  USAGE_SAMPLES_DAYS: z.coerce.number().int().min(2).max(30).default(30),
});

export function parseUsageConfig(env: Env): UsageConfig {
  return { samplesDays: parseEnv(usageEnvSchema, env).USAGE_SAMPLES_DAYS };
}

const HOUR_MS = 3_600_000;

/**
 * Where the usage readers switch: hours before it come from the hourly rollups (their samples may
 * be partly purged), the rest from the per-minute samples, which are all still there.
 */
export const samplesBoundary = (usage: UsageConfig, now: Date): Date => {
  const oldestKept = now.getTime() - usage.samplesDays * 86_400_000;
  return new Date(Math.ceil(oldestKept / HOUR_MS) * HOUR_MS);
};
