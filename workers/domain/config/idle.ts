/** Idle disconnect: how long, and under which thresholds, a running session counts as idle. */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface IdleConfig {
  minutes: number;
  gpuUtilizationPercent: number;
  cpuPercent: number;
}

const idleEnvSchema = z.object({
  IDLE_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  IDLE_GPU_UTIL_PERCENT: z.coerce.number().min(0).max(100).default(5),
  // 100 = one core busy, as the provisioner reports CPU use.
  IDLE_CPU_PERCENT: z.coerce.number().min(0).default(5),
});

export function parseIdleConfig(env: Env): IdleConfig {
  const e = parseEnv(idleEnvSchema, env);
  return { minutes: e.IDLE_MINUTES, gpuUtilizationPercent: e.IDLE_GPU_UTIL_PERCENT, cpuPercent: e.IDLE_CPU_PERCENT };
}
