/**
 * The Stripe side of account deletions and email corrections (policy §7; §4 Stripe holds the email
 * address and our id), worked off the outbox by the every-minute `stripe-erasure` job until Stripe
 * confirms. A deletion: first the subscription is canceled, so a deleted account is billed no
 * further, then the customer is deleted. Both are DELETEs Stripe answers with 404 once done, so a
 * repeat (a retry after a lost answer, an overlapping run) counts as done. A correction: the
 * customer's email is replaced, the only field sent. A failure is retried with a growing delay and
 * logged by code only. Decision record 0015.
 */
import { and, asc, eq, isNull, lte, type SQL, sql } from "drizzle-orm";
import { billingAccounts, deletionOutbox } from "../../../schema";
import { stripeUnlessGone } from "../../adapters/stripe";
import { auditEvent } from "../audit";
import type { DomainContext } from "../context";
import { AppError } from "../errors";

const MINUTE_MS = 60_000;
/** Rows worked per tick (each one or two Stripe calls); the rest wait for the next minute. */
export const ERASURES_PER_TICK = 25;
/** How long a run holds a row it works on: longer than its two calls can take (SDK timeout and one retry each). */
const HOLD_MS = 5 * MINUTE_MS;
const MAX_DELAY_MS = 6 * 60 * MINUTE_MS;

/** After the n-th failed attempt: 1, 2, 4, … minutes, at most 6 hours. */
const retryDelayMs = (attempts: number) => Math.min(MINUTE_MS * 2 ** Math.max(0, attempts - 1), MAX_DELAY_MS);

/**
 * For the batch that confirms an email correction (while `condition` holds): Stripe's customer gets
 * the new address. Only an account with a live Stripe customer queues anything; a pending
 * correction is replaced by the newer one, a pending deletion is never turned into an update.
 */
export function queueCustomerEmailUpdate(ctx: DomainContext, userId: string, email: string, condition: SQL | undefined) {
  const now = ctx.clock.now().getTime();
  return ctx.db
    .insert(deletionOutbox)
    .select(
      ctx.db
        .select({
          userId: billingAccounts.userId,
          operation: sql<"update_email">`'update_email'`.as("operation"),
          email: sql<string>`${email}`.as("email"),
          stripeCustomerId: billingAccounts.stripeCustomerId,
          stripeSubscriptionId: sql<string | null>`null`.as("stripe_subscription_id"),
          subscriptionCanceledAt: sql<Date | null>`null`.as("subscription_canceled_at"),
          attempts: sql<number>`0`.as("attempts"),
          nextAttemptAt: sql<Date>`${now}`.as("next_attempt_at"),
          lastErrorCode: sql<string | null>`null`.as("last_error_code"),
          createdAt: sql<Date>`${now}`.as("created_at"),
        })
        .from(billingAccounts)
        .where(and(eq(billingAccounts.userId, userId), isNull(billingAccounts.closedAt), condition)),
    )
    .onConflictDoUpdate({
      target: deletionOutbox.userId,
      set: { email: sql`excluded.email`, attempts: 0, nextAttemptAt: sql`excluded.next_attempt_at`, lastErrorCode: null, createdAt: sql`excluded.created_at` },
      setWhere: eq(deletionOutbox.operation, "update_email"),
    });
}

export async function eraseDeletedAccountsAtStripe(ctx: DomainContext): Promise<{ erased: number; updated: number; deferred: number } | { skipped: string }> {
  // Without a Stripe key no customer was ever made here; rows (from a configured past) wait for one.
  if (!ctx.config.billing.stripe) return { skipped: "billing_not_configured" };
  const stripe = ctx.stripe();
  const now = ctx.clock.now();
  const due = await ctx.db
    .select({ userId: deletionOutbox.userId })
    .from(deletionOutbox)
    .where(lte(deletionOutbox.nextAttemptAt, now))
    .orderBy(asc(deletionOutbox.nextAttemptAt))
    .limit(ERASURES_PER_TICK);
  const result = { erased: 0, updated: 0, deferred: 0 };
  for (const { userId } of due) {
    // Held by this run (a conditional write): an overlapping run finds it no longer due.
    const [row] = await ctx.db
      .update(deletionOutbox)
      .set({ nextAttemptAt: new Date(now.getTime() + HOLD_MS), attempts: sql`${deletionOutbox.attempts} + 1` })
      .where(and(eq(deletionOutbox.userId, userId), lte(deletionOutbox.nextAttemptAt, now)))
      .returning();
    if (!row) continue;
    try {
      if (row.operation === "update_email") {
        const email = row.email ?? "";
        // The email and nothing else about the user; a customer deleted meanwhile has nothing to correct.
        await stripeUnlessGone(ctx.log, "customers.update", () => stripe.customers.update(row.stripeCustomerId, { email }));
        // Unless a newer correction or a deletion replaced the row meanwhile: that one is still to do.
        const done = and(eq(deletionOutbox.userId, userId), eq(deletionOutbox.operation, "update_email"), eq(deletionOutbox.email, email));
        await ctx.db.batch([ctx.db.delete(deletionOutbox).where(done), auditEvent(ctx, userId, "stripe_customer_updated")]);
        result.updated++;
        continue;
      }
      const subscriptionId = row.stripeSubscriptionId;
      if (subscriptionId && !row.subscriptionCanceledAt) {
        // At once and without a final invoice (decision record 0015): no proration credit or charge.
        await stripeUnlessGone(ctx.log, "subscriptions.cancel", () =>
          stripe.subscriptions.cancel(subscriptionId, { invoice_now: false, prorate: false }, { idempotencyKey: `ozekai-cancel-${subscriptionId}` }),
        );
        await ctx.db.update(deletionOutbox).set({ subscriptionCanceledAt: now }).where(eq(deletionOutbox.userId, userId));
      }
      // Deleting the customer also ends any subscription Stripe has that we never heard of.
      await stripeUnlessGone(ctx.log, "customers.del", () => stripe.customers.del(row.stripeCustomerId, {}, { idempotencyKey: `ozekai-delete-customer-${row.stripeCustomerId}` }));
      await ctx.db.batch([ctx.db.delete(deletionOutbox).where(eq(deletionOutbox.userId, userId)), auditEvent(ctx, userId, "stripe_customer_deleted")]);
      result.erased++;
    } catch (error) {
      const code = error instanceof AppError ? error.code : "internal";
      const retryAt = new Date(now.getTime() + retryDelayMs(row.attempts));
      // A row replaced meanwhile (a deletion after a correction: attempts back to 0) stays due.
      await ctx.db
        .update(deletionOutbox)
        .set({ nextAttemptAt: retryAt, lastErrorCode: code })
        .where(and(eq(deletionOutbox.userId, userId), eq(deletionOutbox.attempts, row.attempts)));
      // No ids: the row in D1 says whose it is; the log says only that Stripe work is behind.
      ctx.log.warn("stripe_erasure_deferred", { code, attempts: row.attempts, retryAt: retryAt.toISOString() });
      result.deferred++;
    }
  }
  return result;
}
