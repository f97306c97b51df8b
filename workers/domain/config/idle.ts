/** Idle disconnect settings: how long, and under which thresholds, a session counts as idle. */
import { z } from "zod";
import type { Env } from "../../env";
import { AppError } from "../errors";

export interface IdleSettings {
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

/** A setting that is present but wrong fails the job loudly rather than silently disconnecting on a guess. */
export function idleSettings(env: Pick<Env, "IDLE_MINUTES" | "IDLE_GPU_UTIL_PERCENT" | "IDLE_CPU_PERCENT">): IdleSettings {
  const parsed = idleEnvSchema.safeParse({ IDLE_MINUTES: env.IDLE_MINUTES || undefined, IDLE_GPU_UTIL_PERCENT: env.IDLE_GPU_UTIL_PERCENT || undefined, IDLE_CPU_PERCENT: env.IDLE_CPU_PERCENT || undefined });
  if (!parsed.success) throw new AppError("not_configured", `Configuration is invalid: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return { minutes: parsed.data.IDLE_MINUTES, gpuUtilizationPercent: parsed.data.IDLE_GPU_UTIL_PERCENT, cpuPercent: parsed.data.IDLE_CPU_PERCENT };
}
