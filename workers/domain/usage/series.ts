/**
 * A session's per-minute usage samples as a series (policy §1 usage data, shown to its owner only),
 * for a live chart and `ozekai status --watch`, which poll it with `since`. One indexed range read:
 * usage_samples_session_at (session_id, at) serves both the filter and the order.
 */
import { and, asc, desc, eq, gt } from "drizzle-orm";
import { type GpuSample, sessions, usageSamples } from "../../../schema";
import type { DomainContext } from "../context";
import { AppError, fieldError } from "../errors";

/** Samples per answer: an hour by default, a day at most. */
export const METRICS_PAGE = { default: 60, max: 1440 } as const;

export interface MetricsSample {
  at: string;
  gpuCount: number;
  gpuUtilizationPercent: number | null;
  gpuUtilizationMaxPercent: number | null;
  gpuMemoryUsedMb: number | null;
  gpuMemoryTotalMb: number | null;
  /** Each GPU's utilization and VRAM; null for a sample taken before they were kept. */
  gpus: GpuSample[] | null;
  cpuPercent: number | null;
  memoryUsedBytes: number | null;
  shellsAttached: number;
}

export interface MetricsSeries {
  sessionId: string;
  state: string;
  samples: MetricsSample[];
  /** More samples than this page: after `next` (with since), or before the first (without). */
  truncated: boolean;
  /** The `since` of the next poll: the newest sample's time here, else the `since` asked with. */
  next: string | null;
}

/** `since` as sent: milliseconds since the epoch, or an ISO 8601 time. */
export function parseSince(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const at = /^\d{1,15}$/.test(raw) ? new Date(Number(raw)) : /^\d{4}-\d{2}-\d{2}T/.test(raw) ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(at.getTime())) throw fieldError("since", "since is an ISO 8601 time or milliseconds since the epoch.");
  return at;
}

/**
 * The owner's session's samples, oldest first: those after `since` (up to `limit`), or without it
 * the latest `limit`. Another user's session is not found, like one that does not exist.
 */
export async function sessionMetrics(ctx: DomainContext, userId: string, sessionId: string, page: { since: Date | undefined; limit: number }): Promise<MetricsSeries> {
  const session = await ctx.db.query.sessions.findFirst({ where: and(eq(sessions.id, sessionId), eq(sessions.userId, userId)), columns: { id: true, state: true } });
  if (!session) throw new AppError("not_found", "You have no session with this id.");
  const owned = and(eq(usageSamples.sessionId, session.id), eq(usageSamples.userId, userId));
  const rows = await ctx.db
    .select()
    .from(usageSamples)
    .where(page.since ? and(owned, gt(usageSamples.at, page.since)) : owned)
    .orderBy(page.since ? asc(usageSamples.at) : desc(usageSamples.at))
    .limit(page.limit + 1);
  const truncated = rows.length > page.limit;
  const listed = rows.slice(0, page.limit);
  if (!page.since) listed.reverse();
  const samples = listed.map(
    (r): MetricsSample => ({
      at: r.at.toISOString(),
      gpuCount: r.gpuCount,
      gpuUtilizationPercent: r.gpuUtilizationPercent,
      gpuUtilizationMaxPercent: r.gpuUtilizationMaxPercent,
      gpuMemoryUsedMb: r.gpuMemoryUsedMb,
      gpuMemoryTotalMb: r.gpuMemoryTotalMb,
      gpus: r.gpus ?? null,
      cpuPercent: r.cpuPercent,
      memoryUsedBytes: r.memoryUsedBytes,
      shellsAttached: r.shellsAttached,
    }),
  );
  return { sessionId: session.id, state: session.state, samples, truncated, next: samples.at(-1)?.at ?? page.since?.toISOString() ?? null };
}
