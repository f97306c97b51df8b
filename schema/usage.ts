import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";
import { sessions } from "./sessions";

/** One GPU of a session in a usage sample; a figure the host could not read is null. */
export interface GpuSample {
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
}

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
    /** Each GPU's own figures, in the container's GPU order (null in samples taken before they were kept). */
    gpus: text("gpus", { mode: "json" }).$type<GpuSample[]>(),
    /** 100 = one core busy (as `docker stats` shows it). */
    cpuPercent: real("cpu_percent"),
    memoryUsedBytes: integer("memory_used_bytes"),
    /** Interactive shells attached when sampled. */
    shellsAttached: integer("shells_attached").notNull(),
  },
  (t) => [uniqueIndex("usage_samples_session_at").on(t.sessionId, t.at), index("usage_samples_user_idx").on(t.userId), index("usage_samples_at_idx").on(t.at)],
);

/**
 * Policy §1 usage data shared with Stripe (§4): a session's time per whole clock hour, as reported
 * to the Stripe billing meter by the `metering` cron job. The id is the meter event identifier
 * (session + interval), so a retried or overlapping run never bills twice. `reported_at` null =
 * not yet reported (Stripe down: caught up on a later tick); `expired_at` set = older than Stripe's
 * 35-day window when its turn came, never reportable (logged).
 */
export const usageRecords = sqliteTable(
  "usage_records",
  {
    id: text("id").primaryKey(),
    sessionId: text("session_id").notNull(),
    userId: text("user_id").notNull(),
    planId: text("plan_id").notNull(),
    intervalStart: timestamp("interval_start").notNull(),
    intervalEnd: timestamp("interval_end").notNull(),
    /** Seconds of the session inside the interval (the meter's unit; the plan's price is per hour). */
    quantity: integer("quantity").notNull(),
    createdAt: timestamp("created_at").notNull(),
    reportedAt: timestamp("reported_at"),
    expiredAt: timestamp("expired_at"),
  },
  (t) => [
    uniqueIndex("usage_records_session_interval").on(t.sessionId, t.intervalStart),
    index("usage_records_unreported_idx").on(t.reportedAt, t.expiredAt, t.intervalStart),
    index("usage_records_user_idx").on(t.userId),
    index("usage_records_interval_end_idx").on(t.intervalEnd),
  ],
);

/** One GPU of a session over a clock hour: its mean and peak utilization, its VRAM peak. */
export interface GpuHour {
  utilizationMeanPercent: number | null;
  utilizationMaxPercent: number | null;
  memoryUsedMaxMb: number | null;
  memoryTotalMb: number | null;
}

/**
 * Policy §1 usage data kept 12 months without a row a minute: each session's usage samples rolled
 * into one row per clock hour by the `usage-rollup` job (idempotent: a repeated hour is written
 * again from the same samples). The per-minute samples are kept only USAGE_SAMPLES_DAYS; readers
 * take the hourly rows for older hours.
 */
export const usageHourly = sqliteTable(
  "usage_hourly",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id),
    userId: text("user_id").notNull(),
    /** The clock hour's start (UTC). */
    hour: timestamp("hour").notNull(),
    /** Per-minute samples rolled into the hour. */
    samples: integer("samples").notNull(),
    gpuCount: integer("gpu_count").notNull(),
    /** Mean of the samples' mean GPU utilization, over those that had one. */
    gpuUtilizationMeanPercent: real("gpu_utilization_mean_percent"),
    /** Samples with a GPU utilization: the weight of the mean when hours are combined. */
    gpuUtilizationSamples: integer("gpu_utilization_samples").notNull(),
    gpuUtilizationMaxPercent: real("gpu_utilization_max_percent"),
    gpuMemoryUsedMaxMb: integer("gpu_memory_used_max_mb"),
    gpuMemoryTotalMb: integer("gpu_memory_total_mb"),
    gpus: text("gpus", { mode: "json" }).$type<GpuHour[]>(),
    /** Samples per GPU utilization bin [0,25), [25,50), [50,75), [75,100]: the operators' statistics read them. */
    gpuUtilizationBins: text("gpu_utilization_bins", { mode: "json" }).notNull().$type<[number, number, number, number]>(),
    cpuMeanPercent: real("cpu_mean_percent"),
    cpuMaxPercent: real("cpu_max_percent"),
    memoryUsedMaxBytes: integer("memory_used_max_bytes"),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.hour] }), index("usage_hourly_user_hour_idx").on(t.userId, t.hour), index("usage_hourly_hour_idx").on(t.hour)],
);
