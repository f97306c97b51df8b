import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./accounts";
import { timestamp } from "./columns";

/** Stripe subscription statuses, as Stripe names them. */
export const SUBSCRIPTION_STATUSES = ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/**
 * Policy §1 "Payment information": the Stripe customer and subscription references, the plan and
 * the state Stripe reports — never card data or an address (Stripe keeps those). One row per user,
 * created with the Stripe customer on the first checkout.
 */
export const billingAccounts = sqliteTable(
  "billing_accounts",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    stripeSubscriptionId: text("stripe_subscription_id"),
    subscriptionStatus: text("subscription_status", { enum: SUBSCRIPTION_STATUSES }),
    planId: text("plan_id"),
    currentPeriodEnd: timestamp("current_period_end"),
    /** When the subscription became past_due: the grace period counts from here. */
    pastDueSince: timestamp("past_due_since"),
    /** `created` of the newest Stripe event applied to the subscription: older events never move it backwards. */
    lastEventAt: timestamp("last_event_at"),
    createdAt: timestamp("created_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
    /** When the account was deleted: webhooks change nothing after it; the row goes 12 months later (policy §6). */
    closedAt: timestamp("closed_at"),
  },
  (t) => [uniqueIndex("billing_accounts_customer_unique").on(t.stripeCustomerId), index("billing_accounts_closed_at_idx").on(t.closedAt)],
);

/**
 * The one Checkout an account may have open: claimed by a conditional write before Stripe is
 * called, so two checkouts at once cannot open two Checkout Sessions (and two subscriptions). The
 * claim fixes the Checkout Session's idempotency key and expiry: a repeated request for the same
 * plan gets the same page from Stripe; the page cannot be paid after the claim ends.
 */
export const checkoutClaims = sqliteTable(
  "checkout_claims",
  {
    userId: text("user_id")
      .primaryKey()
      .references(() => users.id),
    planId: text("plan_id").notNull(),
    claimedAt: timestamp("claimed_at").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
  },
  (t) => [index("checkout_claims_expires_at_idx").on(t.expiresAt)],
);

/** What the outbox has Stripe do for an account. */
export const STRIPE_OUTBOX_OPERATIONS = ["delete", "update_email"] as const;

/**
 * Stripe work that must happen once the change that asked for it is committed, written in that
 * change's own batch and worked off by the `stripe-erasure` cron job until Stripe confirms. For an
 * account deletion: the subscription canceled, then the customer (our id and the email address)
 * deleted. For a confirmed email correction: the customer's email replaced (and nothing else).
 * One row per account: a later correction replaces a pending one, a deletion replaces either.
 * The row goes when Stripe confirmed.
 */
export const deletionOutbox = sqliteTable(
  "deletion_outbox",
  {
    userId: text("user_id").primaryKey(),
    operation: text("operation", { enum: STRIPE_OUTBOX_OPERATIONS }).notNull().default("delete"),
    /** The corrected address Stripe's customer gets (update_email only; null for a deletion). */
    email: text("email"),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    /** Null: no subscription to cancel (deleting the customer still ends any Stripe made). */
    stripeSubscriptionId: text("stripe_subscription_id"),
    subscriptionCanceledAt: timestamp("subscription_canceled_at"),
    attempts: integer("attempts").notNull().default(0),
    /** Due from then; a run holds the row by moving it forward, so overlapping runs never work on it twice. */
    nextAttemptAt: timestamp("next_attempt_at").notNull(),
    lastErrorCode: text("last_error_code"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [index("deletion_outbox_next_attempt_idx").on(t.nextAttemptAt)],
);

/** Stripe events applied, by event id: the unique key makes each event take effect exactly once. */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    eventId: text("event_id").primaryKey(),
    type: text("type").notNull(),
    userId: text("user_id").notNull(),
    eventCreatedAt: timestamp("event_created_at").notNull(),
    processedAt: timestamp("processed_at").notNull(),
  },
  (t) => [index("stripe_events_user_idx").on(t.userId), index("stripe_events_processed_idx").on(t.processedAt)],
);
