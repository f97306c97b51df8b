/** Operator statistics (policy §2 "aggregate, anonymized"): the fewest users a figure may describe. */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface StatsConfig {
  /** k: a figure drawn from fewer distinct users is suppressed. */
  minUsers: number;
}

// Below 5 a figure is close enough to one person's usage to be read back: such a value is refused.
const statsEnvSchema = z.object({ STATS_MIN_USERS: z.coerce.number().int().min(5).max(1000).default(5) });

export function parseStatsConfig(env: Env): StatsConfig {
  return { minUsers: parseEnv(statsEnvSchema, env).STATS_MIN_USERS };
}
