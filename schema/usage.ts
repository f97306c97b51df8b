import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";
import { sessions } from "./sessions";

/**
 * Policy §1 usage data: what a session's container used, sampled every minute by the
 * `usage-metrics` cron job from its host's provisioner. A number the host could not read is null,
 * never estimated (a host without NVIDIA reports no GPU figures). The idle disconnect reads these.
 */
export const usageSamples = sqliteTable(
  "usage_samples",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id),
    userId: text("user_id").notNull(),
    /** The cron tick's time: one sample per session and tick, so a repeated tick writes nothing new. */
    at: timestamp("at").notNull(),
    /** GPUs the container held when sampled (0 on a CPU plan). */
    gpuCount: integer("gpu_count").notNull(),
    /** Mean utilization of the session's GPUs, 0–100; null when any GPU could not be read. */
    gpuUtilizationPercent: real("gpu_utilization_percent"),
    /** The busiest GPU's utilization: a session is idle only when every GPU is. */
    gpuUtilizationMaxPercent: real("gpu_utilization_max_percent"),
    /** VRAM used and installed, summed over the session's GPUs. */
    gpuMemoryUsedMb: integer("gpu_memory_used_mb"),
    gpuMemoryTotalMb: integer("gpu_memory_total_mb"),
    /** 100 = one core busy (as `docker stats` shows it). */
    cpuPercent: real("cpu_percent"),
    memoryUsedBytes: integer("memory_used_bytes"),
    /** Interactive shells attached when sampled. */
    shellsAttached: integer("shells_attached").notNull(),
  },
  (t) => [uniqueIndex("usage_samples_session_at").on(t.sessionId, t.at), index("usage_samples_user_idx").on(t.userId), index("usage_samples_at_idx").on(t.at)],
);
