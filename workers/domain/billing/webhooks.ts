/**
 * Stripe webhook events applied to billing (ARCHITECTURE "Billing"). Each event takes effect once:
 * its id is inserted (unique key) in the same `db.batch()` as its effect, so a redelivery fails the
 * batch and changes nothing. Out-of-order deliveries never move a subscription backwards: an
 * effect applies only when the event is newer than the last one applied to that billing account.
 * `created` counts whole seconds and Stripe promises no order, so an event from the same second as
 * the last one applied cannot be placed by its payload: then the subscription is read back from
 * Stripe and its current state is applied. A deleted account's billing is closed: its events are
 * acknowledged and change nothing. Only ids, status, plan and period end are read from payloads —
 * never addresses or card data.
 */
import { and, eq, inArray, isNull, lt, lte, or, sql, type SQL } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { z } from "zod";
import { billingAccounts, stripeEvents, SUBSCRIPTION_STATUSES, users } from "../../../schema";
import { billingEmails } from "../../adapters/email";
import { type Stripe, stripeCall } from "../../adapters/stripe";
import type { DomainContext } from "../context";
import { isUniqueViolation } from "../db";
import { AppError } from "../errors";
import { findPlan, planForPrice, type StripePrices } from "../plans";

export type WebhookOutcome = "applied" | "duplicate" | "ignored" | "unknown_customer" | "account_deleted";

const id = z.string().min(1).max(255);
const planMetadata = z.object({ plan_id: z.string().optional() }).nullish();

const checkoutSession = z.object({ customer: id, subscription: id.nullish(), payment_status: z.string().optional(), metadata: planMetadata });
const subscription = z.object({
  id,
  customer: id,
  status: z.enum(SUBSCRIPTION_STATUSES),
  current_period_end: z.number().int().nullish(),
  metadata: planMetadata,
  items: z.object({ data: z.array(z.object({ price: z.object({ id }), current_period_end: z.number().int().nullish() })) }),
});
const invoice = z.object({ customer: id });

const HANDLED = ["checkout.session.completed", "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed"] as const;
type Handled = (typeof HANDLED)[number];

function parse<T extends z.ZodType>(schema: T, object: unknown): z.infer<T> {
  const parsed = schema.safeParse(object);
  if (!parsed.success) throw new AppError("webhook_invalid", "The event's object lacks the fields its type must have.");
  return parsed.data;
}

/** The change an event makes, and the condition under which it may (beyond being newer). */
interface Effect {
  set: SQLiteUpdateSetSource<typeof billingAccounts>;
  /** Extra guard on the row (e.g. only a past_due subscription becomes active on invoice.paid). */
  when?: SQL;
  /** false: the event fills gaps only and does not count as the newest state (checkout completion). */
  ordered: boolean;
}

type Subscription = z.infer<typeof subscription>;

/** A subscription's state as an effect, from an event's payload or as read back from Stripe. */
function subscriptionEffect(s: Subscription, status: Subscription["status"], created: Date, prices: Record<string, StripePrices>): Effect {
  const plan = s.items.data.map((item) => planForPrice(prices, item.price.id)).find(Boolean) ?? findPlan(s.metadata?.plan_id);
  const periodEnd = s.items.data.find((item) => item.current_period_end)?.current_period_end ?? s.current_period_end;
  const ended = status === "canceled" || status === "incomplete_expired";
  return {
    ordered: true,
    set: {
      stripeSubscriptionId: s.id,
      subscriptionStatus: status,
      ...(plan ? { planId: plan.id } : {}),
      currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
      pastDueSince: status === "past_due" ? sql`coalesce(${billingAccounts.pastDueSince}, ${created.getTime()})` : null,
    },
    // A late event ending an older subscription must not end the customer's newer, live one.
    ...(ended
      ? {
          when: or(
            isNull(billingAccounts.stripeSubscriptionId),
            eq(billingAccounts.stripeSubscriptionId, s.id),
            sql`${billingAccounts.subscriptionStatus} is null or ${billingAccounts.subscriptionStatus} not in ('active', 'trialing', 'past_due')`,
          ),
        }
      : {}),
  };
}

function effectOf(type: Handled, object: unknown, created: Date, prices: Record<string, StripePrices>): { customer: string; effect: Effect; subscriptionId?: string } {
  switch (type) {
    case "checkout.session.completed": {
      const s = parse(checkoutSession, object);
      const plan = findPlan(s.metadata?.plan_id);
      // The subscription's own events carry its state; completion only fills what is still unknown.
      return {
        customer: s.customer,
        effect: {
          ordered: false,
          set: {
            stripeSubscriptionId: sql`coalesce(${billingAccounts.stripeSubscriptionId}, ${s.subscription ?? null})`,
            planId: sql`coalesce(${billingAccounts.planId}, ${plan?.id ?? null})`,
            subscriptionStatus: sql`coalesce(${billingAccounts.subscriptionStatus}, ${s.subscription && s.payment_status !== "unpaid" ? "active" : null})`,
          },
        },
      };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const s = parse(subscription, object);
      return { customer: s.customer, subscriptionId: s.id, effect: subscriptionEffect(s, type === "customer.subscription.deleted" ? "canceled" : s.status, created, prices) };
    }
    case "invoice.paid":
      return {
        customer: parse(invoice, object).customer,
        effect: { ordered: true, set: { subscriptionStatus: "active", pastDueSince: null }, when: inArray(billingAccounts.subscriptionStatus, ["past_due", "unpaid"]) },
      };
    case "invoice.payment_failed":
      return {
        customer: parse(invoice, object).customer,
        effect: { ordered: true, set: { subscriptionStatus: "past_due", pastDueSince: created }, when: inArray(billingAccounts.subscriptionStatus, ["active", "trialing"]) },
      };
  }
}

const isHandled = (type: string): type is Handled => (HANDLED as readonly string[]).includes(type);

const log = (ctx: DomainContext, event: Stripe.Event, outcome: string) =>
  ctx.log.info("stripe_webhook", { eventId: event.id, type: event.type, outcome });

/** The subscription as Stripe holds it now; a failure is 502, so Stripe delivers the event again later. */
async function currentSubscription(ctx: DomainContext, subscriptionId: string, created: Date): Promise<Effect> {
  const stripe = ctx.stripe();
  const s = parse(subscription, await stripeCall(ctx.log, "subscriptions.retrieve", () => stripe.subscriptions.retrieve(subscriptionId)));
  return subscriptionEffect(s, s.status, created, ctx.config.billing.prices);
}

/** Applies one verified event. Unknown types, unknown customers and deleted accounts are acknowledged and change nothing. */
export async function applyStripeEvent(ctx: DomainContext, event: Stripe.Event): Promise<WebhookOutcome> {
  if (!isHandled(event.type)) {
    log(ctx, event, "ignored");
    return "ignored";
  }
  const created = new Date(event.created * 1000);
  const parsed = effectOf(event.type, event.data.object, created, ctx.config.billing.prices);
  const { customer } = parsed;
  const account = await ctx.db
    .select({ userId: billingAccounts.userId, lastEventAt: billingAccounts.lastEventAt, subscriptionId: billingAccounts.stripeSubscriptionId, closedAt: billingAccounts.closedAt })
    .from(billingAccounts)
    .where(eq(billingAccounts.stripeCustomerId, customer))
    .get();
  if (!account) {
    // Not ours (another integration on the same Stripe account) or a customer we never created.
    log(ctx, event, "unknown_customer");
    return "unknown_customer";
  }
  // Policy §7: the account is deleted and its subscription canceled by the deletion outbox;
  // nothing Stripe says about it any more is ours to record. 2xx, so Stripe stops sending it.
  if (account.closedAt) {
    log(ctx, event, "account_deleted");
    return "account_deleted";
  }
  const seen = await ctx.db.select({ eventId: stripeEvents.eventId }).from(stripeEvents).where(eq(stripeEvents.eventId, event.id)).get();
  if (seen) {
    log(ctx, event, "duplicate");
    return "duplicate";
  }

  // The same second as the last event applied: `created` cannot say which came first.
  const tie = parsed.effect.ordered && account.lastEventAt?.getTime() === created.getTime();
  const readBack = tie ? (parsed.subscriptionId ?? account.subscriptionId) : null;
  const effect = readBack ? await currentSubscription(ctx, readBack, created) : parsed.effect;
  // Stripe's current state is at least as new as any event of that second, so it may replace one.
  const last = billingAccounts.lastEventAt;
  const newer = effect.ordered ? or(isNull(last), readBack ? lte(last, created) : lt(last, created)) : undefined;
  const open = and(eq(billingAccounts.stripeCustomerId, customer), isNull(billingAccounts.closedAt));
  const now = ctx.clock.now();
  try {
    const [recorded, update] = await ctx.db.batch([
      // Recorded only while the account is live, read inside the batch: a deletion that just
      // committed leaves this event unrecorded and without effect, like any later one.
      ctx.db.insert(stripeEvents).select(
        ctx.db
          .select({
            eventId: sql<string>`${event.id}`.as("event_id"),
            type: sql<string>`${event.type}`.as("type"),
            userId: billingAccounts.userId,
            eventCreatedAt: sql<Date>`${created.getTime()}`.as("event_created_at"),
            processedAt: sql<Date>`${now.getTime()}`.as("processed_at"),
          })
          .from(billingAccounts)
          .where(open),
      ),
      ctx.db
        .update(billingAccounts)
        .set({ ...effect.set, ...(effect.ordered ? { lastEventAt: created } : {}), updatedAt: now })
        .where(and(open, newer, effect.when)),
    ]);
    if (recorded.meta.changes === 0) {
      log(ctx, event, "account_deleted");
      return "account_deleted";
    }
    const changed = update.meta.changes;
    log(ctx, event, changed > 0 ? (readBack ? "applied_from_stripe" : "applied") : "stale");
    if (changed > 0 || event.type === "invoice.payment_failed") await notify(ctx, account.userId, event.type);
    return "applied";
  } catch (error) {
    // The same event delivered twice at once: the other delivery recorded it first.
    if (isUniqueViolation(error)) {
      log(ctx, event, "duplicate");
      return "duplicate";
    }
    throw error;
  }
}

/** Policy §2 billing notifications, sent after the answer (waitUntil). */
async function notify(ctx: DomainContext, userId: string, type: Handled): Promise<void> {
  const email =
    type === "invoice.payment_failed" ? billingEmails.paymentFailed(`${ctx.config.appUrl}/billing`) : type === "customer.subscription.deleted" ? billingEmails.subscriptionEnded() : null;
  if (!email) return;
  const user = await ctx.db.select({ email: users.email }).from(users).where(and(eq(users.id, userId), isNull(users.deletedAt))).get();
  if (user?.email) ctx.email.send(user.email, email);
}
