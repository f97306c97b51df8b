/** Operator statistics (policy §2 "aggregate, anonymized"), and the database's capacity they report. */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface StatsConfig {
  /** k: a figure drawn from fewer distinct users is suppressed. */
  minUsers: number;
  /** The D1 database's size limit: writes fail beyond it. */
  databaseLimitBytes: number;
  /** The admins are warned once the database holds this share of its limit. */
  databaseWarnPercent: number;
}

const statsEnvSchema = z.object({
  // Below 5 a figure is close enough to one person's usage to be read back: such a value is refused.
  STATS_MIN_USERS: z.coerce.number().int().min(5).max(1000).default(5),
  // D1's limit per database is 10 GB (Cloudflare's documented maximum); a smaller one warns earlier.
  DATABASE_LIMIT_BYTES: z.coerce.number().int().positive().max(10e9).default(10e9),
  DATABASE_WARN_PERCENT: z.coerce.number().int().min(1).max(99).default(70),
});

export function parseStatsConfig(env: Env): StatsConfig {
  const parsed = parseEnv(statsEnvSchema, env);
  return { minUsers: parsed.STATS_MIN_USERS, databaseLimitBytes: parsed.DATABASE_LIMIT_BYTES, databaseWarnPercent: parsed.DATABASE_WARN_PERCENT };
}
