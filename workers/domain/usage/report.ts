/**
 * `GET /v1/usage`: the owner's sessions in a window, their time inside it, a
 * summary of the usage samples (policy §1 usage data) and the cost at the plan's price per hour.
 * The cost is an estimate from the catalog; the Stripe invoice is what is charged.
 */
import { and, asc, eq, gt, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { sessions, usageHourly, usageSamples } from "../../../schema";
import { samplesBoundary } from "../config";
import type { DomainContext } from "../context";
import { PLANS } from "../plans";
import { monthToDate, type MonthToDate } from "./limit";

/** Sessions listed per answer at most (oldest first); `truncated` says when more exist. */
export const USAGE_REPORT_MAX_SESSIONS = 500;

export interface UsageSessionView {
  id: string;
  planId: string;
  gpuType: string | null;
  gpuCount: number;
  state: string;
  startedAt: string;
  endedAt: string | null;
  /** Seconds of the session inside the window (up to now for a live one). */
  seconds: number;
  /** seconds × GPU count. */
  gpuSeconds: number;
  /** At the plan's price per hour, in cents (two decimals); null for a plan no longer in the catalog. */
  costCents: number | null;
  metrics: { samples: number; avgGpuUtilizationPercent: number | null; maxGpuUtilizationPercent: number | null; maxGpuMemoryUsedMb: number | null };
}

export interface UsageReport {
  from: string;
  to: string;
  sessions: UsageSessionView[];
  truncated: boolean;
  totals: { seconds: number; gpuSeconds: number; costCents: number };
  /** This UTC month so far against the limit the user set (whatever the window). */
  thisMonth: MonthToDate;
}

interface SessionMetrics {
  samples: number;
  avg: number | null;
  /** Samples behind avg. */
  weight: number;
  max: number | null;
  vram: number | null;
}

const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

const combine = (a: SessionMetrics, b: SessionMetrics): SessionMetrics => ({
  samples: a.samples + b.samples,
  avg: a.weight + b.weight === 0 ? null : ((a.avg ?? 0) * a.weight + (b.avg ?? 0) * b.weight) / (a.weight + b.weight),
  weight: a.weight + b.weight,
  max: maxOf(a.max, b.max),
  vram: maxOf(a.vram, b.vram),
});

const round2 = (n: number) => Math.round(n * 100) / 100;
const round1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10);

export async function usageReport(ctx: DomainContext, userId: string, from: Date, to: Date): Promise<UsageReport> {
  const now = ctx.clock.now().getTime();
  const rows = await ctx.db
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNotNull(sessions.startedAt), lt(sessions.startedAt, to), or(isNull(sessions.endedAt), gt(sessions.endedAt, from))))
    .orderBy(asc(sessions.startedAt))
    .limit(USAGE_REPORT_MAX_SESSIONS + 1);
  const listed = rows.slice(0, USAGE_REPORT_MAX_SESSIONS);
  const ids = listed.map((s) => s.id);
  // Recent hours from the per-minute samples, older ones from their hourly rollups (see samplesBoundary).
  const boundary = samplesBoundary(ctx.config.usage, ctx.clock.now());
  const recentFrom = new Date(Math.max(from.getTime(), boundary.getTime()));
  const olderTo = new Date(Math.min(to.getTime(), boundary.getTime()));
  const metrics = new Map<string, SessionMetrics>();
  const add = (sessionId: string, m: SessionMetrics) => {
    const known = metrics.get(sessionId);
    metrics.set(sessionId, known ? combine(known, m) : m);
  };
  for (let i = 0; i < ids.length; i += 90) {
    const chunk = ids.slice(i, i + 90);
    const [recent, older] = await ctx.db.batch([
      ctx.db
        .select({
          sessionId: usageSamples.sessionId,
          samples: sql<number>`count(*)`,
          avg: sql<number | null>`avg(${usageSamples.gpuUtilizationPercent})`,
          weight: sql<number>`count(${usageSamples.gpuUtilizationPercent})`,
          max: sql<number | null>`max(${usageSamples.gpuUtilizationMaxPercent})`,
          vram: sql<number | null>`max(${usageSamples.gpuMemoryUsedMb})`,
        })
        .from(usageSamples)
        .where(and(eq(usageSamples.userId, userId), inArray(usageSamples.sessionId, chunk), gte(usageSamples.at, recentFrom), lt(usageSamples.at, to)))
        .groupBy(usageSamples.sessionId),
      ctx.db
        .select({
          sessionId: usageHourly.sessionId,
          samples: sql<number>`sum(${usageHourly.samples})`,
          avg: sql<number | null>`sum(${usageHourly.gpuUtilizationMeanPercent} * ${usageHourly.gpuUtilizationSamples}) / nullif(sum(${usageHourly.gpuUtilizationSamples}), 0)`,
          weight: sql<number>`sum(${usageHourly.gpuUtilizationSamples})`,
          max: sql<number | null>`max(${usageHourly.gpuUtilizationMaxPercent})`,
          vram: sql<number | null>`max(${usageHourly.gpuMemoryUsedMaxMb})`,
        })
        .from(usageHourly)
        // An hour counts when it starts inside the window: older windows are read to the hour.
        .where(and(eq(usageHourly.userId, userId), inArray(usageHourly.sessionId, chunk), gte(usageHourly.hour, from), lt(usageHourly.hour, olderTo)))
        .groupBy(usageHourly.sessionId),
    ]);
    for (const m of [...recent, ...older]) add(m.sessionId, { samples: Number(m.samples), avg: m.avg, weight: Number(m.weight), max: m.max, vram: m.vram });
  }
  const views = listed.map((s): UsageSessionView => {
    const start = Math.max(s.startedAt!.getTime(), from.getTime());
    const end = Math.min(s.endedAt?.getTime() ?? now, to.getTime(), now);
    const seconds = Math.max(0, Math.round((end - start) / 1000));
    const plan = PLANS.find((p) => p.id === s.planId);
    const m = metrics.get(s.id);
    return {
      id: s.id,
      planId: s.planId,
      gpuType: s.gpuType,
      gpuCount: s.gpuCount,
      state: s.state,
      startedAt: s.startedAt!.toISOString(),
      endedAt: s.endedAt?.toISOString() ?? null,
      seconds,
      gpuSeconds: seconds * s.gpuCount,
      costCents: plan ? round2((seconds * plan.pricePerHourCents) / 3600) : null,
      metrics: { samples: m?.samples ?? 0, avgGpuUtilizationPercent: round1(m?.avg ?? null), maxGpuUtilizationPercent: round1(m?.max ?? null), maxGpuMemoryUsedMb: m?.vram ?? null },
    };
  });
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    sessions: views,
    truncated: rows.length > USAGE_REPORT_MAX_SESSIONS,
    totals: {
      seconds: views.reduce((a, v) => a + v.seconds, 0),
      gpuSeconds: views.reduce((a, v) => a + v.gpuSeconds, 0),
      costCents: round2(views.reduce((a, v) => a + (v.costCents ?? 0), 0)),
    },
    thisMonth: await monthToDate(ctx, userId),
  };
}
