/**
 * Idle disconnect: a running session whose GPUs (CPU, on a plan without GPUs)
 * stayed under a threshold with no shell attached for IDLE_MINUTES is disconnected the way the
 * user would disconnect it, and the user is told by email. Idle machines billing their owners is
 * the most common complaint about GPU clouds. Idleness is read from the usage samples only: a
 * figure the host could not read is never taken for idle (it proves nothing).
 */
import { and, eq, gte, lte, sql } from "drizzle-orm";
import { sessions, usageSamples, users } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import type { IdleConfig } from "../config";
import type { DomainContext } from "../context";
import { disconnectEachForJob } from "./disconnect";

/** Samples are taken on the minute; this much lateness still counts as "at" a minute. */
const SAMPLE_SLACK_MS = 59_000;

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
  const busy = sql`sum(case when ${usageSamples.shellsAttached} > 0
      or (${sessions.gpuCount} > 0 and (${usageSamples.gpuUtilizationMaxPercent} is null or ${usageSamples.gpuUtilizationMaxPercent} >= ${settings.gpuUtilizationPercent}))
      or (${sessions.gpuCount} = 0 and (${usageSamples.cpuPercent} is null or ${usageSamples.cpuPercent} >= ${settings.cpuPercent}))
    then 1 else 0 end)`;
  return ctx.db
    .select({ id: sessions.id, userId: sessions.userId })
    .from(sessions)
    .innerJoin(usageSamples, and(eq(usageSamples.sessionId, sessions.id), eq(usageSamples.userId, sessions.userId), gte(usageSamples.at, new Date(windowStart)), lte(usageSamples.at, new Date(now))))
    .where(and(eq(sessions.state, "running"), lte(sessions.startedAt, new Date(windowStart))))
    .groupBy(sessions.id, sessions.userId)
    .having(
      and(
        sql`${busy} = 0`,
        sql`min(${usageSamples.at}) <= ${windowStart + SAMPLE_SLACK_MS}`,
        sql`max(${usageSamples.at}) >= ${now - 2 * 60_000}`,
        sql`count(*) >= ${Math.ceil(settings.minutes / 2)}`,
      ),
    )
    .orderBy(sessions.startedAt)
    .limit(limit);
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
