/** What billing does when an account is deleted (policy §7 deletion, §6 what billing law keeps). */
import { and, eq, isNull, sql } from "drizzle-orm";
import { billingAccounts, checkoutClaims, deletionOutbox, users } from "../../../schema";
import type { DomainContext } from "../context";

/**
 * For the deletion's batch, after the statement that marks the account deleted; also for a
 * checkout's batch, which may land just after a deletion it raced (its new Stripe customer must
 * not outlive the account). Each statement holds only while the account is deleted, so in a live
 * account's checkout they change nothing, and run twice they act once.
 *
 * The Stripe work (cancel the subscription, delete the customer with its email address) goes into
 * the outbox, read from the billing row inside the batch, so a subscription a webhook recorded a
 * moment before is the one canceled; the `stripe-erasure` job retries it until Stripe confirms.
 * The billing row keeps only the Stripe references — what invoices, refunds and disputes at
 * Stripe are found by — tied to the pseudonymous account id, 12 months from `closed_at` (the
 * inventory's rule). Webhooks change nothing once it is closed, so no state is kept for them.
 */
export function closeBillingAccount(ctx: DomainContext, userId: string, now: Date) {
  const deleted = sql`exists (select 1 from ${users} where ${users.id} = ${userId} and ${users.deletedAt} is not null)`;
  const open = and(eq(billingAccounts.userId, userId), isNull(billingAccounts.closedAt), deleted);
  return [
    ctx.db
      .insert(deletionOutbox)
      .select(
        ctx.db
          .select({
            userId: billingAccounts.userId,
            operation: sql<"delete">`'delete'`.as("operation"),
            email: sql<string | null>`null`.as("email"),
            stripeCustomerId: billingAccounts.stripeCustomerId,
            stripeSubscriptionId: billingAccounts.stripeSubscriptionId,
            subscriptionCanceledAt: sql<Date | null>`null`.as("subscription_canceled_at"),
            attempts: sql<number>`0`.as("attempts"),
            nextAttemptAt: sql<Date>`${now.getTime()}`.as("next_attempt_at"),
            lastErrorCode: sql<string | null>`null`.as("last_error_code"),
            createdAt: sql<Date>`${now.getTime()}`.as("created_at"),
          })
          .from(billingAccounts)
          .where(open),
      )
      // An email correction still pending is superseded: the customer and its address go.
      .onConflictDoUpdate({
        target: deletionOutbox.userId,
        set: {
          operation: "delete",
          email: null,
          stripeSubscriptionId: sql`excluded.stripe_subscription_id`,
          subscriptionCanceledAt: null,
          attempts: 0,
          nextAttemptAt: now,
          lastErrorCode: null,
          createdAt: now,
        },
      }),
    ctx.db
      .update(billingAccounts)
      .set({ subscriptionStatus: null, planId: null, currentPeriodEnd: null, pastDueSince: null, lastEventAt: null, updatedAt: now, closedAt: now })
      .where(open),
    ctx.db.delete(checkoutClaims).where(and(eq(checkoutClaims.userId, userId), deleted)),
  ] as const;
}
