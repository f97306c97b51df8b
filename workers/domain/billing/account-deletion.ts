/** What billing does when an account is deleted (policy §7 deletion, §6 what billing law keeps). */
import { eq } from "drizzle-orm";
import { billingAccounts } from "../../../schema";
import { stripeCall } from "../../adapters/stripe";
import type { DomainContext } from "../context";

/**
 * For the deletion's batch. Only the Stripe customer and subscription references stay — what
 * invoices, refunds and disputes at Stripe are found by — tied to the now pseudonymous account id.
 * The plan, the period and the payment standing say nothing billing law needs kept here. The
 * status and last event time stay so a late webhook still applies in order.
 */
export const eraseBillingDetails = (ctx: DomainContext, userId: string) =>
  ctx.db.update(billingAccounts).set({ planId: null, currentPeriodEnd: null, pastDueSince: null, updatedAt: ctx.clock.now() }).where(eq(billingAccounts.userId, userId));

/**
 * A deleted account is billed no further: its subscription is canceled at Stripe, after the
 * answer; a failure is logged (stripe_call_failed) and the deletion stands.
 */
export function cancelSubscriptionOfDeletedAccount(ctx: DomainContext, userId: string): void {
  ctx.waitUntil(
    (async () => {
      const billing = await ctx.db.select().from(billingAccounts).where(eq(billingAccounts.userId, userId)).get();
      const subscriptionId = billing?.stripeSubscriptionId;
      if (!subscriptionId || !billing.subscriptionStatus || ["canceled", "incomplete_expired"].includes(billing.subscriptionStatus)) return;
      const stripe = ctx.stripe();
      await stripeCall(ctx.log, "subscriptions.cancel", () => stripe.subscriptions.cancel(subscriptionId, {}, { idempotencyKey: `ozekai-cancel-${subscriptionId}` }));
    })().catch(() => {}),
  );
}
