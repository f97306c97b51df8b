/**
 * The monthly usage limit's action (docs/decisions/0024): a user who chose "disconnect" has a
 * running session disconnected once this month's GPU time reaches the limit, the way the user would
 * disconnect it (workspace kept, billing stopped at that moment), audited and emailed once, from
 * the call that stopped it. Connect refuses new sessions meanwhile (connect.ts), so nothing loops.
 */
import { eq } from "drizzle-orm";
import { users } from "../../../schema";
import { billingEmails } from "../../adapters/email";
import { auditEvent } from "../audit";
import type { DomainContext } from "../context";
import { checkUsageLimits, sessionsAtUsageLimit } from "../usage";
import { disconnectEachForJob } from "./disconnect";

/** At most this many disconnects per tick (each calls a host); the rest go on the next tick. */
export const MAX_LIMIT_DISCONNECTS_PER_TICK = 20;

const HOUR_MS = 3_600_000;

/** Disconnects the running sessions of users past a limit they chose to be disconnected at. */
export async function disconnectSessionsAtUsageLimit(ctx: DomainContext): Promise<{ disconnected: number; failed: number }> {
  const month = ctx.clock.now().toISOString().slice(0, 7);
  return disconnectEachForJob(ctx, await sessionsAtUsageLimit(ctx, MAX_LIMIT_DISCONNECTS_PER_TICK), "usage-limit", async (session) => {
    await auditEvent(ctx, session.userId, "usage_limit_disconnect", {
      sessionId: session.id,
      month,
      limitHours: session.limitHours,
      usedHours: Math.round((session.usedMs / HOUR_MS) * 100) / 100,
    });
    const user = await ctx.db.query.users.findFirst({ where: eq(users.id, session.userId), columns: { email: true, deletedAt: true } });
    // policy §2: a billing notification about the user's own session.
    if (user?.email && !user.deletedAt) ctx.email.send(user.email, billingEmails.sessionStoppedAtLimit({ month, limitHours: session.limitHours }));
  });
}

/** The every-minute `usage-limit` job: the 80% and 100% emails, then the disconnects users chose. */
export async function enforceUsageLimits(ctx: DomainContext): Promise<{ checked: number; emailed: number; disconnected: number; failed: number }> {
  return { ...(await checkUsageLimits(ctx)), ...(await disconnectSessionsAtUsageLimit(ctx)) };
}
