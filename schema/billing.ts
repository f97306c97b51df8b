import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
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
  },
  (t) => [uniqueIndex("billing_accounts_customer_unique").on(t.stripeCustomerId)],
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
