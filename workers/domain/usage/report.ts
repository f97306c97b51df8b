/**
 * `GET /v1/usage`: the owner's sessions in a window, their time inside it, a
 * summary of the usage samples (policy §1 usage data) and the cost at the plan's price per hour.
 * The cost is an estimate from the catalog; the Stripe invoice is what is charged.
 */
import { and, asc, eq, gt, gte, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { sessions, usageSamples } from "../../../schema";
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
  const metrics = new Map<string, { samples: number; avg: number | null; max: number | null; vram: number | null }>();
  for (let i = 0; i < ids.length; i += 90) {
    const chunk = ids.slice(i, i + 90);
    const found = await ctx.db
      .select({
        sessionId: usageSamples.sessionId,
        samples: sql<number>`count(*)`,
        avg: sql<number | null>`avg(${usageSamples.gpuUtilizationPercent})`,
        max: sql<number | null>`max(${usageSamples.gpuUtilizationMaxPercent})`,
        vram: sql<number | null>`max(${usageSamples.gpuMemoryUsedMb})`,
      })
      .from(usageSamples)
      .where(and(eq(usageSamples.userId, userId), inArray(usageSamples.sessionId, chunk), gte(usageSamples.at, from), lt(usageSamples.at, to)))
      .groupBy(usageSamples.sessionId);
    for (const m of found) metrics.set(m.sessionId, m);
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
