/**
 * The one analysis operators get (policy §2 "Service improvement: aggregate, anonymized usage
 * patterns"; §3: never workspace content): sessions, GPU hours, the GPU utilization distribution
 * and the plan mix per day or week. Every figure is a count or a sum over a bucket, never a row;
 * a bucket drawn from fewer than k distinct users (and a plan mix with a cell of fewer than k) is
 * reported as suppressed with no numbers, so no figure can be traced back to one person. Users who
 * objected to this analysis (policy §7) and deleted accounts are left out entirely.
 */
import { and, gte, isNotNull, isNull, lt, type SQL, sql } from "drizzle-orm";
import { sessions, usageHourly, usageSamples, users } from "../../../schema";
import { databaseFigures, type DatabaseFigures } from "../capacity";
import { samplesBoundary } from "../config";
import type { DomainContext } from "../context";
import { fieldError } from "../errors";
import { requireAdmin } from "../owned";

export const STATS_PERIODS = ["day", "week"] as const;
export type StatsPeriod = (typeof STATS_PERIODS)[number];

/** A longer range is a heavier query and no more useful for tuning the service. */
export const STATS_MAX_DAYS = 366;

/** GPU utilization bins, in percent: [0, 25), [25, 50), [50, 75), [75, 100]. */
export const UTILIZATION_BINS = ["0-25", "25-50", "50-75", "75-100"] as const;

const DAY_MS = 86_400_000;

export interface StatsQuery {
  period: StatsPeriod;
  /** Inclusive UTC dates, YYYY-MM-DD. */
  from: string;
  to: string;
}

export type PlanMixCell = { planId: string; suppressed: false; sessions: number } | { planId: string; suppressed: true };

export type StatsBucket =
  | { start: string; suppressed: true }
  | {
      start: string;
      suppressed: false;
      sessions: number;
      /** Null (suppressed) when fewer than k users had GPU sessions in the bucket. */
      gpuHours: number | null;
      /** Per-minute usage samples of these sessions, by the GPUs' mean utilization; null with gpuHours. */
      utilization: Record<(typeof UTILIZATION_BINS)[number], number> | null;
      planMix: PlanMixCell[];
    };

export interface Stats {
  period: StatsPeriod;
  from: string;
  to: string;
  minUsers: number;
  buckets: StatsBucket[];
  /** The database's daily size and row counts in the range, newest first (no user's data: counts only). */
  database: DatabaseFigures[];
}

const dateMs = (field: string, value: string) => {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value) throw fieldError(field, "A calendar date, YYYY-MM-DD (UTC).");
  return ms;
};

/**
 * The bucket a session falls in, by when it started, as a day number since the epoch: the day
 * itself, or the Monday that begins its ISO week (day 0, 1970-01-01, was a Thursday).
 */
const bucketDay = (period: StatsPeriod): SQL<number> => {
  // Inlined, not bound: D1 binds a number as REAL, and the division must be an integer one.
  const day = sql`(${sessions.startedAt} / ${sql.raw(String(DAY_MS))})`;
  return period === "day" ? sql<number>`${day}` : sql<number>`((${day} + 3) / 7 * 7 - 3)`;
};

const utilizationBin = sql<number>`min(3, cast(${usageSamples.gpuUtilizationPercent} / 25 as integer))`;

const isoDay = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

export async function aggregateStats(ctx: DomainContext, query: StatsQuery): Promise<Stats> {
  await requireAdmin(ctx);
  const fromMs = dateMs("from", query.from);
  const toMs = dateMs("to", query.to) + DAY_MS;
  if (toMs <= fromMs) throw fieldError("to", "Must not be before `from`.");
  if (toMs - fromMs > STATS_MAX_DAYS * DAY_MS) throw fieldError("to", `At most ${STATS_MAX_DAYS} days from \`from\`.`);
  // Whole weeks only: a week cut short by the range would let two ranges be subtracted into one day.
  if (query.period === "week" && new Date(fromMs).getUTCDay() !== 1) throw fieldError("from", "A week starts on a Monday.");
  if (query.period === "week" && new Date(toMs).getUTCDay() !== 1) throw fieldError("to", "A week ends on a Sunday.");
  const { minUsers } = ctx.config.stats;
  const now = ctx.clock.now().getTime();
  const bucket = bucketDay(query.period);
  // Counted sessions: started in the range, of a live account that has not objected (policy §7).
  const counted = and(
    gte(sessions.startedAt, new Date(fromMs)),
    lt(sessions.startedAt, new Date(toMs)),
    sql`${sessions.userId} in (select ${users.id} from ${users} where ${isNull(users.analysisObjectedAt)} and ${isNull(users.deletedAt)})`,
  );
  const dayBucket = bucketDay("day");
  const boundary = samplesBoundary(ctx.config.usage, ctx.clock.now());
  const [totals, plans, bins, hourlyBins, dayUsers, dayPlanUsers] = await ctx.db.batch([
    ctx.db
      .select({
        day: bucket,
        users: sql<number>`count(distinct ${sessions.userId})`,
        gpuUsers: sql<number>`count(distinct case when ${sessions.gpuCount} > 0 then ${sessions.userId} end)`,
        sessions: sql<number>`count(*)`,
        // A session still running counts up to now.
        gpuMs: sql<number>`coalesce(sum(${sessions.gpuCount} * (coalesce(${sessions.endedAt}, ${now}) - ${sessions.startedAt})), 0)`,
      })
      .from(sessions)
      .where(counted)
      .groupBy(bucket)
      .orderBy(bucket),
    ctx.db
      .select({ day: bucket, planId: sessions.planId, users: sql<number>`count(distinct ${sessions.userId})`, sessions: sql<number>`count(*)` })
      .from(sessions)
      .where(counted)
      .groupBy(bucket, sessions.planId)
      .orderBy(sessions.planId),
    // Recent samples as they are, older ones from their hourly rollups' bins (see samplesBoundary).
    ctx.db
      .select({ day: bucket, bin: utilizationBin, samples: sql<number>`count(*)` })
      .from(usageSamples)
      .innerJoin(sessions, sql`${sessions.id} = ${usageSamples.sessionId}`)
      .where(and(counted, isNotNull(usageSamples.gpuUtilizationPercent), gte(usageSamples.at, boundary)))
      .groupBy(bucket, utilizationBin),
    ctx.db
      .select({
        day: bucket,
        bins: sql<string>`json_array(${sql.join(
          [0, 1, 2, 3].map((i) => sql.raw(`sum(json_extract(gpu_utilization_bins, '$[${i}]'))`)),
          sql`, `,
        )})`,
      })
      .from(usageHourly)
      .innerJoin(sessions, sql`${sessions.id} = ${usageHourly.sessionId}`)
      .where(and(counted, lt(usageHourly.hour, boundary)))
      .groupBy(bucket),
    ctx.db
      .select({ day: dayBucket, users: sql<number>`count(distinct ${sessions.userId})`, gpuUsers: sql<number>`count(distinct case when ${sessions.gpuCount} > 0 then ${sessions.userId} end)` })
      .from(sessions)
      .where(counted)
      .groupBy(dayBucket),
    ctx.db
      .select({ day: dayBucket, users: sql<number>`count(distinct ${sessions.userId})` })
      .from(sessions)
      .where(counted)
      .groupBy(dayBucket, sessions.planId),
  ]);
  /*
   * Figures that could be subtracted from one another must not reveal what suppression hid: a
   * week is a sum of its days, and a bucket's sessions the sum of its plan cells. So a week with a
   * suppressed day is suppressed; a plan mix with any small cell (in the bucket or, for a week, in
   * any of its days) is suppressed cell by cell; weeks are whole (Monday to Sunday, see above).
   */
  const weekOf = (day: number) => (query.period === "day" ? day : Math.floor((day + 3) / 7) * 7 - 3);
  const hidden = new Set<number>();
  const mixHidden = new Set<number>();
  // GPU hours and utilization come from GPU sessions only: fewer than k GPU users hide them.
  const gpuHidden = new Set<number>();
  for (const d of dayUsers) {
    if (Number(d.users) < minUsers) hidden.add(weekOf(Number(d.day)));
    if (Number(d.gpuUsers) > 0 && Number(d.gpuUsers) < minUsers) gpuHidden.add(weekOf(Number(d.day)));
  }
  for (const d of [...dayPlanUsers, ...plans.map((p) => ({ day: p.day, users: p.users }))]) if (Number(d.users) < minUsers) mixHidden.add(weekOf(Number(d.day)));
  const buckets = totals.map((row): StatsBucket => {
    const day = Number(row.day);
    const start = isoDay(day);
    if (Number(row.users) < minUsers || hidden.has(day)) return { start, suppressed: true };
    const utilization = Object.fromEntries(UTILIZATION_BINS.map((bin) => [bin, 0])) as Record<(typeof UTILIZATION_BINS)[number], number>;
    for (const b of bins) if (Number(b.day) === day) utilization[UTILIZATION_BINS[Number(b.bin)]!] += Number(b.samples);
    for (const h of hourlyBins) {
      if (Number(h.day) !== day) continue;
      const counts = JSON.parse(h.bins) as (number | null)[];
      UTILIZATION_BINS.forEach((name, i) => {
        utilization[name] += counts[i] ?? 0;
      });
    }
    const planMix = plans
      .filter((p) => Number(p.day) === day)
      .map((p): PlanMixCell => (mixHidden.has(day) ? { planId: p.planId, suppressed: true } : { planId: p.planId, suppressed: false, sessions: Number(p.sessions) }));
    const gpu = Number(row.gpuUsers) > 0 && (Number(row.gpuUsers) < minUsers || gpuHidden.has(day)) ? { gpuHours: null, utilization: null } : { gpuHours: Math.round(Number(row.gpuMs) / 36_000) / 100, utilization };
    return { start, suppressed: false, sessions: Number(row.sessions), ...gpu, planMix };
  });
  const database = await databaseFigures(ctx, new Date(fromMs), new Date(toMs));
  return { period: query.period, from: query.from, to: query.to, minUsers, buckets, database };
}
