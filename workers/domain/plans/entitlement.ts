import { eq } from "drizzle-orm";
import { billingAccounts } from "../../../schema";
import type { DomainContext } from "../context";
import { findPlan, type Plan } from "./catalog";

/** What billing holds of the user's subscription (no row before the first checkout). */
const subscriptionStandingQuery = (ctx: DomainContext, userId: string) =>
  ctx.db
    .select({ status: billingAccounts.subscriptionStatus, planId: billingAccounts.planId, pastDueSince: billingAccounts.pastDueSince })
    .from(billingAccounts)
    .where(eq(billingAccounts.userId, userId))
    .limit(1);

type EntitledUser = { id: string; emailVerifiedAt: Date | null; planId: string | null };

/** The entitlement of a loaded user and subscription, with the grace period from configuration. */
export const entitlementOf = (ctx: DomainContext, user: EntitledUser, subscription: SubscriptionStanding | null): Entitlement & { subscription: SubscriptionStanding | null } => ({
  ...sessionRestrictions(user, subscription, { now: ctx.clock.now(), graceDays: ctx.config.billing.graceDays }),
  subscription,
});

/** The entitlement of a loaded user, with the subscription read from billing. */
export async function userEntitlement(ctx: DomainContext, user: EntitledUser): Promise<Entitlement & { subscription: SubscriptionStanding | null }> {
  const [subscription] = await subscriptionStandingQuery(ctx, user.id);
  return entitlementOf(ctx, user, subscription ?? null);
}

/** Why an account may not start GPU sessions; each reason is also the error code connect answers with. */
export type SessionRestriction = "email_unverified" | "no_plan" | "subscription_past_due" | "subscription_canceled";

/** What billing knows of the user's subscription (billing_accounts), as entitlement needs it. */
export interface SubscriptionStanding {
  /** Stripe's subscription status (schema/billing.ts SUBSCRIPTION_STATUSES). */
  status: string | null;
  planId: string | null;
  pastDueSince: Date | null;
}

export interface Entitlement {
  /** The plan sessions run on; undefined when none may start. */
  plan: Plan | undefined;
  restrictions: SessionRestriction[];
}

/**
 * The entitlement check, shared by connect and the account view so both say the same thing.
 * A session needs a verified email and either an active or trialing subscription to a plan, a
 * past_due one still inside the grace period, or a plan an admin granted (users.plan_id: operators
 * and comp accounts — it wins over the subscription's state, so a comp account is never cut off).
 */
export function sessionRestrictions(
  user: { emailVerifiedAt: Date | null; planId: string | null },
  subscription: SubscriptionStanding | null,
  at: { now: Date; graceDays: number },
): Entitlement {
  const restrictions: SessionRestriction[] = [];
  if (!user.emailVerifiedAt) restrictions.push("email_unverified");
  const granted = findPlan(user.planId);
  const subscribed = findPlan(subscription?.planId);
  let plan: Plan | undefined;
  if (granted) plan = granted;
  else if (!subscription?.status || !subscribed) restrictions.push("no_plan");
  else {
    switch (subscription.status) {
      case "active":
      case "trialing":
        plan = subscribed;
        break;
      case "past_due": {
        const since = subscription.pastDueSince?.getTime() ?? at.now.getTime();
        if (at.now.getTime() - since < at.graceDays * 86_400_000) plan = subscribed;
        else restrictions.push("subscription_past_due");
        break;
      }
      case "unpaid":
        restrictions.push("subscription_past_due");
        break;
      case "canceled":
      case "incomplete_expired":
      case "paused":
        restrictions.push("subscription_canceled");
        break;
      default:
        // incomplete: the first payment has not gone through yet.
        restrictions.push("no_plan");
    }
  }
  return { plan: restrictions.length === 0 ? plan : undefined, restrictions };
}
