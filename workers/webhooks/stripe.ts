import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { verifyWebhook } from "../adapters/stripe";
import type { HonoEnv } from "../api/types";
import { createDomainContext } from "../context";
import { applyStripeEvent } from "../domain/billing";
import { AppError } from "../domain/errors";

/** Stripe's events are small; this bounds what an unauthenticated caller can make us read. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/**
 * POST /webhooks/stripe — thin: the signature is checked on the raw bytes (no JSON middleware
 * before it, no bearer auth: Stripe's signature is the authentication), then the domain applies
 * the event as the webhook actor. The answer is quick: emails go out after it (waitUntil).
 */
export const stripeWebhooks = new Hono<HonoEnv>().post(
  "/stripe",
  bodyLimit({
    maxSize: MAX_WEBHOOK_BODY_BYTES,
    onError: () => {
      throw new AppError("payload_too_large", `Webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes.`);
    },
  }),
  async (c) => {
    const executionCtx = c.executionCtx;
    const ctx = await createDomainContext(c.env, { actor: { kind: "webhook", source: "stripe" }, requestId: c.get("requestId"), waitUntil: (promise) => executionCtx.waitUntil(promise) });
    const secret = ctx.config.billing.webhookSecret;
    if (!secret) throw new AppError("billing_not_configured", "Stripe webhooks are not configured here (no signing secret).");
    const event = await verifyWebhook(secret, await c.req.text(), c.req.header("Stripe-Signature"));
    return c.json({ received: true, outcome: await applyStripeEvent(ctx, event) }, 200);
  },
);
