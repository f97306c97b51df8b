/**
 * Billing through Stripe (policy §1 "Payment information", §4): Checkout sells a plan's
 * subscription, the Customer Portal manages it, and we keep only the customer and subscription
 * references, the plan, the status and the period end. Stripe receives the email address and our
 * opaque account id — nothing else leaves the platform.
 */
import { and, eq, lte, sql } from "drizzle-orm";
import { billingAccounts, checkoutClaims, type SubscriptionStatus, users } from "../../../schema";
import { stripeCall } from "../../adapters/stripe";
import { auditEventWhere } from "../audit";
import type { DomainContext } from "../context";
import { AppError, fieldError } from "../errors";
import { findUser } from "../owned";
import { planCatalog } from "../plans";
import { closeBillingAccount } from "./account-deletion";

export interface BillingView {
  /** Whether a Stripe customer exists for the account (after the first checkout). */
  hasCustomer: boolean;
  planId: string | null;
  status: SubscriptionStatus | null;
  currentPeriodEnd: string | null;
  /** While past_due: when new sessions stop being allowed. */
  graceEndsAt: string | null;
}

/** Statuses of a subscription that still exists: a second checkout would bill twice. */
const LIVE_STATUSES: readonly SubscriptionStatus[] = ["active", "trialing", "past_due", "unpaid"];

const billingRow = (ctx: DomainContext, userId: string) => ctx.db.select().from(billingAccounts).where(eq(billingAccounts.userId, userId)).get();

export async function getBilling(ctx: DomainContext, userId: string): Promise<BillingView> {
  ctx.stripe(); // 503 billing_not_configured without a Stripe key
  const row = await billingRow(ctx, userId);
  const pastDue = row?.subscriptionStatus === "past_due" ? (row.pastDueSince ?? row.updatedAt) : null;
  return {
    hasCustomer: row !== undefined,
    planId: row?.planId ?? null,
    status: row?.subscriptionStatus ?? null,
    currentPeriodEnd: row?.currentPeriodEnd?.toISOString() ?? null,
    graceEndsAt: pastDue ? new Date(pastDue.getTime() + ctx.config.billing.graceDays * 86_400_000).toISOString() : null,
  };
}

/**
 * How long a checkout claim, and the Checkout Session made under it, lasts. Stripe wants a
 * session's `expires_at` at least 30 minutes after its creation: the margin lets a request that
 * repeats the creation (the same idempotency key) still be accepted a quarter of an hour later.
 */
export const CHECKOUT_CLAIM_MS = 45 * 60_000;

/**
 * The account's checkout claim for `planId`: a new one (a conditional write that only an expired
 * claim or none lets through), or the open one for the same plan — whoever holds it, the request
 * then makes the same Checkout Session. An open claim for another plan is a 409.
 */
async function claimCheckout(ctx: DomainContext, userId: string, planId: string) {
  const now = ctx.clock.now();
  const claim = { userId, planId, claimedAt: now, expiresAt: new Date(now.getTime() + CHECKOUT_CLAIM_MS) };
  const [won] = await ctx.db
    .insert(checkoutClaims)
    .values(claim)
    .onConflictDoUpdate({ target: checkoutClaims.userId, set: claim, setWhere: lte(checkoutClaims.expiresAt, now) })
    .returning();
  const held = won ?? (await ctx.db.select().from(checkoutClaims).where(eq(checkoutClaims.userId, userId)).get());
  if (held && held.planId === planId && held.expiresAt > now) return held;
  if (!held) throw new AppError("checkout_in_progress", "A checkout for this account was just started or ended; try again.");
  throw new AppError("checkout_in_progress", `A checkout for another plan is open until ${held.expiresAt.toISOString()}; finish it there, or start again after that time.`);
}

/**
 * A Checkout Session for the plan's subscription: its base price and its metered GPU-time price.
 * The Stripe customer is created on first use with the email and our account id only (policy §4),
 * under an idempotency key, so a retry after a failure reuses it. The Checkout Session is made
 * under the account's checkout claim: its idempotency key and expiry come from the claim, so two
 * requests at once, a double click or a retry after a lost answer all get one Checkout Session,
 * hence at most one subscription. The billing row is written only once Stripe has answered both
 * calls: a failure leaves nothing half-written here (the claim just expires).
 */
export async function startCheckout(ctx: DomainContext, userId: string, planId: string): Promise<{ url: string }> {
  const stripe = ctx.stripe();
  const plan = planCatalog(ctx.config.billing.prices).find((p) => p.id === planId);
  if (!plan?.stripePrices) throw fieldError("planId", "This plan is not sold here.");
  const prices = plan.stripePrices;
  const user = await findUser(ctx, userId);
  // The Stripe customer is created under this address: unproven, it could be a victim's.
  if (!user.emailVerifiedAt) throw new AppError("email_unverified", "Verify your email address before subscribing.");
  const existing = await billingRow(ctx, userId);
  if (existing?.subscriptionStatus && LIVE_STATUSES.includes(existing.subscriptionStatus)) {
    throw new AppError("already_subscribed", "You already have a subscription; change or cancel it in the billing portal (POST /v1/billing/portal).");
  }
  const claim = await claimCheckout(ctx, userId, plan.id);
  const customerId =
    existing?.stripeCustomerId ??
    (
      await stripeCall(ctx.log, "customers.create", () =>
        // Policy §4: the email address and our opaque reference, nothing more.
        stripe.customers.create({ email: user.email ?? undefined, metadata: { user_id: user.id } }, { idempotencyKey: `ozekai-customer-${user.id}` }),
      )
    ).id;
  const session = await stripeCall(ctx.log, "checkout.sessions.create", () =>
    stripe.checkout.sessions.create(
      {
        mode: "subscription",
        customer: customerId,
        client_reference_id: user.id,
        // Metered prices take no quantity: usage is reported to the meter.
        line_items: [{ price: prices.base, quantity: 1 }, { price: prices.usage }],
        subscription_data: { metadata: { plan_id: plan.id } },
        metadata: { plan_id: plan.id },
        success_url: `${ctx.config.appUrl}/billing?checkout=success`,
        cancel_url: `${ctx.config.appUrl}/billing?checkout=canceled`,
        // Not payable once the claim is over: a later claim's session can never be a second subscription.
        expires_at: Math.floor(claim.expiresAt.getTime() / 1000),
      },
      { idempotencyKey: `ozekai-checkout-${user.id}-${claim.claimedAt.getTime()}` },
    ),
  );
  if (!session.url) throw new AppError("stripe_unavailable", "Stripe returned no checkout page; nothing was changed. Try again.");
  if (!existing) {
    const now = ctx.clock.now();
    const noBillingRow = sql`not exists (select 1 from ${billingAccounts} where ${billingAccounts.userId} = ${userId})`;
    await ctx.db.batch([
      // Before the insert, under the same condition: two requests that both made the customer audit it once.
      auditEventWhere(ctx, userId, "billing_customer_created", {}, and(eq(users.id, userId), noBillingRow)),
      ctx.db.insert(billingAccounts).values({ userId, stripeCustomerId: customerId, createdAt: now, updatedAt: now }).onConflictDoNothing(),
      // The account may have been deleted while Stripe answered: then the new customer is erased too.
      ...closeBillingAccount(ctx, userId, now),
    ]);
  }
  return { url: session.url };
}

/** A Customer Portal session: payment method, invoices, plan changes and cancellation happen at Stripe. */
export async function openPortal(ctx: DomainContext, userId: string): Promise<{ url: string }> {
  const stripe = ctx.stripe();
  const row = await billingRow(ctx, userId);
  if (!row) throw new AppError("not_found", "No billing account yet: subscribe to a plan first (POST /v1/billing/checkout).");
  const session = await stripeCall(ctx.log, "billing_portal.sessions.create", () =>
    stripe.billingPortal.sessions.create({ customer: row.stripeCustomerId, return_url: `${ctx.config.appUrl}/billing` }),
  );
  return { url: session.url };
}
