/**
 * Usage samples rolled up: one row per session and clock hour (mean, peaks, VRAM peaks per GPU,
 * utilization bins) kept 12 months, so the per-minute rows need only stay USAGE_SAMPLES_DAYS.
 * Idempotent: an hour is recomputed from its samples and upserted, so overlapping or repeated
 * ticks write the same rows.
 */
import { max, min, sql } from "drizzle-orm";
import { type GpuHour, usageHourly, usageSamples } from "../../../schema";
import type { DomainContext } from "../context";

const HOUR_MS = 3_600_000;
/** Hours read per query: a bounded result however many sessions run. */
const WINDOW_HOURS = 6;
/** Windows per tick: a week of backlog caught up per hourly tick. */
const WINDOWS_PER_TICK = 28;
/** D1 runs a batch as one transaction: this many upserts per batch. */
const UPSERTS_PER_BATCH = 50;

const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

// Inlined, not bound: D1 binds a number as REAL, and the division must be an integer one.
const hourOf = sql.raw(`(at / ${HOUR_MS}) * ${HOUR_MS}`);
const bin = (n: number) => sql.raw(`sum(case when min(3, cast(gpu_utilization_percent / 25 as integer)) = ${n} then 1 else 0 end)`);

interface HourRow {
  session_id: string;
  user_id: string;
  hour: number;
  samples: number;
  gpu_count: number;
  util_mean: number | null;
  util_samples: number;
  util_max: number | null;
  vram_max: number | null;
  vram_total: number | null;
  b0: number;
  b1: number;
  b2: number;
  b3: number;
  cpu_mean: number | null;
  cpu_max: number | null;
  mem_max: number | null;
}

interface GpuRow {
  session_id: string;
  hour: number;
  gpu: number;
  mean: number | null;
  peak: number | null;
  vram: number | null;
  total: number | null;
}

/** The complete hours with samples not rolled up yet (and the last one rolled, again), up to a week per tick. */
export async function rollUpUsage(ctx: DomainContext): Promise<{ hours: number; rows: number }> {
  const end = floorHour(ctx.clock.now().getTime());
  const [last] = await ctx.db.select({ hour: max(usageHourly.hour) }).from(usageHourly);
  let from = last?.hour ? last.hour.getTime() : 0;
  let rows = 0;
  const hours = new Set<number>();
  for (let window = 0; window < WINDOWS_PER_TICK && from < end; window++) {
    // Skip hours without samples (nothing ran) in one step.
    const [next] = await ctx.db
      .select({ at: min(usageSamples.at) })
      .from(usageSamples)
      .where(sql`${usageSamples.at} >= ${from} and ${usageSamples.at} < ${end}`);
    if (!next?.at) break;
    const start = floorHour(next.at.getTime());
    const stop = Math.min(start + WINDOW_HOURS * HOUR_MS, end);
    const written = await rollUpWindow(ctx, start, stop);
    for (const row of written) hours.add(row);
    rows += written.length;
    from = stop;
  }
  return { hours: hours.size, rows };
}

/** Recomputes every session-hour in [start, stop) from its samples; returns the hours written, one per row. */
async function rollUpWindow(ctx: DomainContext, start: number, stop: number): Promise<number[]> {
  const inWindow = sql`at >= ${start} and at < ${stop}`;
  const totals = await ctx.db.all<HourRow>(sql`
      select session_id, user_id, ${hourOf} as hour, count(*) as samples, max(gpu_count) as gpu_count,
        avg(gpu_utilization_percent) as util_mean, count(gpu_utilization_percent) as util_samples,
        max(gpu_utilization_max_percent) as util_max, max(gpu_memory_used_mb) as vram_max, max(gpu_memory_total_mb) as vram_total,
        ${bin(0)} as b0, ${bin(1)} as b1, ${bin(2)} as b2, ${bin(3)} as b3,
        avg(cpu_percent) as cpu_mean, max(cpu_percent) as cpu_max, max(memory_used_bytes) as mem_max
      from ${usageSamples} where ${inWindow} group by session_id, hour`);
  const perGpu = await ctx.db.all<GpuRow>(sql`
      select session_id, ${hourOf} as hour, cast(g.key as integer) as gpu,
        avg(json_extract(g.value, '$.utilizationPercent')) as mean, max(json_extract(g.value, '$.utilizationPercent')) as peak,
        max(json_extract(g.value, '$.memoryUsedMb')) as vram, max(json_extract(g.value, '$.memoryTotalMb')) as total
      from ${usageSamples}, json_each(${usageSamples.gpus}) as g where ${inWindow} and gpus is not null
      group by session_id, hour, g.key`);
  const gpusOf = new Map<string, GpuHour[]>();
  for (const g of perGpu) {
    const key = `${g.session_id}@${g.hour}`;
    const list = gpusOf.get(key) ?? [];
    list[Number(g.gpu)] = { utilizationMeanPercent: g.mean, utilizationMaxPercent: g.peak, memoryUsedMaxMb: g.vram, memoryTotalMb: g.total };
    gpusOf.set(key, list);
  }
  const upserts = totals.map((r) => {
    const values = {
      sessionId: r.session_id,
      userId: r.user_id,
      hour: new Date(Number(r.hour)),
      samples: Number(r.samples),
      gpuCount: Number(r.gpu_count),
      gpuUtilizationMeanPercent: r.util_mean,
      gpuUtilizationSamples: Number(r.util_samples),
      gpuUtilizationMaxPercent: r.util_max,
      gpuMemoryUsedMaxMb: r.vram_max,
      gpuMemoryTotalMb: r.vram_total,
      gpus: gpusOf.get(`${r.session_id}@${r.hour}`) ?? null,
      gpuUtilizationBins: [Number(r.b0), Number(r.b1), Number(r.b2), Number(r.b3)] as [number, number, number, number],
      cpuMeanPercent: r.cpu_mean,
      cpuMaxPercent: r.cpu_max,
      memoryUsedMaxBytes: r.mem_max,
    };
    const { sessionId: _s, hour: _h, ...recomputed } = values;
    return ctx.db.insert(usageHourly).values(values).onConflictDoUpdate({ target: [usageHourly.sessionId, usageHourly.hour], set: recomputed });
  });
  for (let i = 0; i < upserts.length; i += UPSERTS_PER_BATCH) {
    const chunk = upserts.slice(i, i + UPSERTS_PER_BATCH);
    await ctx.db.batch(chunk as [(typeof chunk)[number], ...typeof chunk]);
  }
  return totals.map((r) => Number(r.hour));
}
