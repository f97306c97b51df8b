import { eq } from "drizzle-orm";
import { billingAccounts } from "../../schema";
import { graceDays } from "./billing-config";
import type { DomainContext } from "./context";
import { type Entitlement, type SubscriptionStanding, sessionRestrictions } from "./plans";

/** What billing holds of the user's subscription, or null before the first checkout. */
export async function subscriptionStanding(ctx: DomainContext, userId: string): Promise<SubscriptionStanding | null> {
  const row = await ctx.db
    .select({ status: billingAccounts.subscriptionStatus, planId: billingAccounts.planId, pastDueSince: billingAccounts.pastDueSince })
    .from(billingAccounts)
    .where(eq(billingAccounts.userId, userId))
    .get();
  return row ?? null;
}

/** The entitlement of a loaded user, with the subscription read from billing and the grace period from configuration. */
export async function userEntitlement(
  ctx: DomainContext,
  user: { id: string; emailVerifiedAt: Date | null; planId: string | null },
): Promise<Entitlement & { subscription: SubscriptionStanding | null }> {
  const subscription = await subscriptionStanding(ctx, user.id);
  return { ...sessionRestrictions(user, subscription, { now: ctx.clock.now(), graceDays: graceDays(ctx.env) }), subscription };
}
