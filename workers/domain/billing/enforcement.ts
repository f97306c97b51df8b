import { and, eq, inArray, isNull } from "drizzle-orm";
import { sessions, users } from "../../../schema";
import { billingEmails } from "../../adapters/email";
import type { DomainContext } from "../context";
import { type SessionRestriction, userEntitlement } from "../plans";
import { disconnectEachForJob } from "../sessions";

/** Billing reasons that stop a running session; an unverified email only blocks new ones. */
const STOPS_RUNNING: readonly SessionRestriction[] = ["subscription_past_due", "subscription_canceled", "no_plan"];
const MAX_PER_TICK = 100;

/**
 * Entitlement for running sessions: once a past-due subscription's grace period is over, or the subscription
 * has ended, running sessions are disconnected too (new ones are already refused with 402), through
 * the same `disconnect` as the API, and the user is told by a billing email (policy §2).
 */
export async function disconnectUnentitledSessions(ctx: DomainContext): Promise<{ disconnected: number; failed: number }> {
  const running = await ctx.db
    .select({ id: sessions.id, userId: sessions.userId, emailVerifiedAt: users.emailVerifiedAt, planId: users.planId, email: users.email })
    .from(sessions)
    .innerJoin(users, and(eq(users.id, sessions.userId), isNull(users.deletedAt)))
    .where(inArray(sessions.state, ["running"]))
    .orderBy(sessions.startedAt)
    .limit(MAX_PER_TICK);
  const unentitled = [];
  for (const session of running) {
    const { restrictions } = await userEntitlement(ctx, { id: session.userId, emailVerifiedAt: session.emailVerifiedAt, planId: session.planId });
    if (restrictions.some((r) => STOPS_RUNNING.includes(r))) unentitled.push(session);
  }
  return disconnectEachForJob(ctx, unentitled, "billing", (session) => {
    if (session.email) ctx.email.send(session.email, billingEmails.sessionStoppedUnpaid());
  });
}
