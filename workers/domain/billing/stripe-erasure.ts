/**
 * The Stripe side of account deletions (policy §7; §4 Stripe holds the email address and our id),
 * worked off the deletion outbox by the every-minute `stripe-erasure` job until Stripe confirms:
 * first the subscription is canceled, so a deleted account is billed no further, then the customer
 * is deleted. Both are DELETEs Stripe answers with 404 once done, so a repeat (a retry after a lost
 * answer, an overlapping run) counts as done. A failure is retried with a growing delay and logged
 * by code only. Decision record 0015.
 */
import { and, asc, eq, lte, sql } from "drizzle-orm";
import { deletionOutbox } from "../../../schema";
import { stripeDelete } from "../../adapters/stripe";
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

export async function eraseDeletedAccountsAtStripe(ctx: DomainContext): Promise<{ erased: number; deferred: number } | { skipped: string }> {
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
  const result = { erased: 0, deferred: 0 };
  for (const { userId } of due) {
    // Held by this run (a conditional write): an overlapping run finds it no longer due.
    const [row] = await ctx.db
      .update(deletionOutbox)
      .set({ nextAttemptAt: new Date(now.getTime() + HOLD_MS), attempts: sql`${deletionOutbox.attempts} + 1` })
      .where(and(eq(deletionOutbox.userId, userId), lte(deletionOutbox.nextAttemptAt, now)))
      .returning();
    if (!row) continue;
    try {
      const subscriptionId = row.stripeSubscriptionId;
      if (subscriptionId && !row.subscriptionCanceledAt) {
        // At once and without a final invoice (decision record 0015): no proration credit or charge.
        await stripeDelete(ctx.log, "subscriptions.cancel", () =>
          stripe.subscriptions.cancel(subscriptionId, { invoice_now: false, prorate: false }, { idempotencyKey: `ozekai-cancel-${subscriptionId}` }),
        );
        await ctx.db.update(deletionOutbox).set({ subscriptionCanceledAt: now }).where(eq(deletionOutbox.userId, userId));
      }
      // Deleting the customer also ends any subscription Stripe has that we never heard of.
      await stripeDelete(ctx.log, "customers.del", () => stripe.customers.del(row.stripeCustomerId, {}, { idempotencyKey: `ozekai-delete-customer-${row.stripeCustomerId}` }));
      await ctx.db.batch([ctx.db.delete(deletionOutbox).where(eq(deletionOutbox.userId, userId)), auditEvent(ctx, userId, "stripe_customer_deleted")]);
      result.erased++;
    } catch (error) {
      const code = error instanceof AppError ? error.code : "internal";
      const retryAt = new Date(now.getTime() + retryDelayMs(row.attempts));
      await ctx.db.update(deletionOutbox).set({ nextAttemptAt: retryAt, lastErrorCode: code }).where(eq(deletionOutbox.userId, userId));
      // No ids: the row in D1 says whose it is; the log says only that Stripe work is behind.
      ctx.log.warn("stripe_erasure_deferred", { code, attempts: row.attempts, retryAt: retryAt.toISOString() });
      result.deferred++;
    }
  }
  return result;
}
