/**
 * Idle disconnect: a running session whose GPUs (CPU, on a plan without GPUs)
 * stayed under a threshold with no shell attached for IDLE_MINUTES is disconnected the way the
 * user would disconnect it, and the user is told by email. Idle machines billing their owners is
 * the most common complaint about GPU clouds. Idleness is read from the usage samples only: a
 * figure the host could not read is never taken for idle (it proves nothing).
 */
import { and, asc, eq, gte, lte, sql } from "drizzle-orm";
import { type Session, sessions, usageSamples, users } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import type { IdleConfig } from "../config";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { disconnectEachForJob } from "./disconnect";

/** Samples are taken on the minute; this much lateness still counts as "at" a minute. */
const SAMPLE_SLACK_MS = 59_000;

/** The newest sample must be this recent: a host that stopped answering proves nothing about idleness. */
const FRESH_SAMPLE_MS = 2 * 60_000;

/**
 * A sample that shows use, or proves nothing: a shell attached, or the figure the plan is judged by
 * (the busiest GPU; CPU without GPUs) at or over its threshold, or unread. Needs `sessions` joined.
 */
const busySample = (settings: IdleConfig) => sql`(${usageSamples.shellsAttached} > 0
      or (${sessions.gpuCount} > 0 and (${usageSamples.gpuUtilizationMaxPercent} is null or ${usageSamples.gpuUtilizationMaxPercent} >= ${settings.gpuUtilizationPercent}))
      or (${sessions.gpuCount} = 0 and (${usageSamples.cpuPercent} is null or ${usageSamples.cpuPercent} >= ${settings.cpuPercent})))`;

/** Joins a session to its own samples in the idle window [now − minutes, now]. */
const samplesInWindow = (settings: IdleConfig, now: number) =>
  and(eq(usageSamples.sessionId, sessions.id), eq(usageSamples.userId, sessions.userId), gte(usageSamples.at, new Date(now - settings.minutes * 60_000)), lte(usageSamples.at, new Date(now)));

/** At most this many disconnects per tick (each calls a host); the rest go on the next tick. */
export const MAX_IDLE_DISCONNECTS_PER_TICK = 20;

export interface IdleSession {
  id: string;
  userId: string;
}

/**
 * Running sessions idle over the whole window [now − minutes, now]: every sample in it is under the
 * threshold (read, not null) with no shell attached, the samples reach back to the window's start
 * and up to now, and no more than every other minute is missing (the host answered throughout).
 */
export async function findIdleSessions(ctx: DomainContext, settings: IdleConfig, limit = MAX_IDLE_DISCONNECTS_PER_TICK): Promise<IdleSession[]> {
  const now = ctx.clock.now().getTime();
  const windowStart = now - settings.minutes * 60_000;
  return ctx.db
    .select({ id: sessions.id, userId: sessions.userId })
    .from(sessions)
    .innerJoin(usageSamples, samplesInWindow(settings, now))
    .where(and(eq(sessions.state, "running"), lte(sessions.startedAt, new Date(windowStart))))
    .groupBy(sessions.id, sessions.userId)
    .having(
      and(
        sql`sum(case when ${busySample(settings)} then 1 else 0 end) = 0`,
        sql`min(${usageSamples.at}) <= ${windowStart + SAMPLE_SLACK_MS}`,
        sql`max(${usageSamples.at}) >= ${now - FRESH_SAMPLE_MS}`,
        sql`count(*) >= ${Math.ceil(settings.minutes / 2)}`,
      ),
    )
    .orderBy(sessions.startedAt)
    .limit(limit);
}

/**
 * When the rule above would disconnect this session if it stays idle: IDLE_MINUTES after the first
 * idle sample since the last busy one (and no sooner than IDLE_MINUTES after it started), the
 * samples going on once a minute. Null unless it is running and its newest sample is recent and idle;
 * null too while the idle settings do not parse (the job then fails every tick: nothing is disconnected).
 * A time already past means the job disconnects it at its next tick.
 */
export async function idleDisconnectAt(ctx: DomainContext, session: Session): Promise<Date | null> {
  if (session.state !== "running" || !session.startedAt) return null;
  let settings: IdleConfig;
  try {
    settings = ctx.config.idle;
  } catch (error) {
    if (error instanceof AppError && error.code === "not_configured") return null;
    throw error;
  }
  const now = ctx.clock.now().getTime();
  // At most IDLE_MINUTES + 1 rows: one sample per minute (unique on session and minute).
  const rows = await ctx.db
    .select({ at: usageSamples.at, busy: sql<number>`case when ${busySample(settings)} then 1 else 0 end` })
    .from(sessions)
    .innerJoin(usageSamples, samplesInWindow(settings, now))
    .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId)))
    .orderBy(asc(usageSamples.at));
  const latest = rows.at(-1);
  if (!latest || latest.busy || latest.at.getTime() < now - FRESH_SAMPLE_MS) return null;
  const firstIdle = rows[rows.findLastIndex((r) => r.busy) + 1]!;
  return new Date(Math.max(firstIdle.at.getTime(), session.startedAt.getTime()) + settings.minutes * 60_000);
}

/**
 * The `idle-disconnect` job's work. Disconnects through the same domain function as the API (the
 * command log records it, with the job as the actor); the email goes only from the call that
 * stopped the session, so a repeated tick does not send it twice.
 */
export async function disconnectIdleSessions(ctx: DomainContext): Promise<{ disconnected: number; failed: number }> {
  const settings = ctx.config.idle;
  return disconnectEachForJob(ctx, await findIdleSessions(ctx, settings), "idle", async (idle) => {
    const user = await ctx.db.query.users.findFirst({ where: eq(users.id, idle.userId), columns: { email: true, deletedAt: true } });
    // policy §2: an account email (about the user's own session), never marketing.
    if (user?.email && !user.deletedAt) ctx.email.send(user.email, accountEmails.sessionIdleDisconnected(settings.minutes));
  });
}
