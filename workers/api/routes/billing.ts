import { createRoute, z } from "@hono/zod-openapi";
import { SUBSCRIPTION_STATUSES } from "../../../schema";
import { getBilling, openPortal, startCheckout } from "../../domain/billing";
import { PLANS } from "../../domain/plans";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";

const protectedRoute = { tags: ["billing"], security: bearerAuth, middleware: requireUser };
const STRIPE_FAULTS = ["billing_not_configured", "stripe_unavailable"] as const;

const BillingSchema = z
  .object({
    hasCustomer: z.boolean(),
    planId: z.string().nullable(),
    status: z.enum(SUBSCRIPTION_STATUSES).nullable(),
    currentPeriodEnd: z.string().nullable(),
    graceEndsAt: z.string().nullable().openapi({ description: "While past_due: when new sessions stop being allowed" }),
  })
  .openapi("Billing");

const RedirectSchema = z.object({ url: z.string().openapi({ description: "Send the user to this Stripe page" }) }).openapi("StripeRedirect");

const getRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/",
  summary: "Your plan, subscription status and current period end",
  responses: { 200: jsonResponse(BillingSchema, "Billing"), ...errorResponses("unauthorized", "billing_not_configured") },
});

const checkoutRoute = createRoute({
  ...protectedRoute,
  method: "post",
  path: "/checkout",
  summary: "Start a Stripe Checkout for a plan's subscription (base price plus metered GPU time)",
  description:
    "One checkout per account is open at a time, for 45 minutes: asking again for the same plan meanwhile returns the same Checkout page; another plan is 409 checkout_in_progress until it ends.",
  request: { body: jsonBody(z.strictObject({ planId: z.enum(PLANS.map((p) => p.id) as [string, ...string[]]) })) },
  responses: {
    200: jsonResponse(RedirectSchema, "The Checkout page"),
    ...errorResponses("validation_failed", "unauthorized", "email_unverified", "already_subscribed", "checkout_in_progress", ...STRIPE_FAULTS),
  },
});

const portalRoute = createRoute({
  ...protectedRoute,
  method: "post",
  path: "/portal",
  summary: "A Stripe Customer Portal page: payment method, invoices, cancellation",
  responses: { 200: jsonResponse(RedirectSchema, "The portal page"), ...errorResponses("unauthorized", "not_found", ...STRIPE_FAULTS) },
});

export const billingRoutes = newApp()
  .openapi(getRoute, async (c) => c.json(await getBilling(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(checkoutRoute, async (c) => c.json(await startCheckout(c.get("domain"), principalOf(c).user.id, c.req.valid("json").planId), 200))
  .openapi(portalRoute, async (c) => c.json(await openPortal(c.get("domain"), principalOf(c).user.id), 200));
