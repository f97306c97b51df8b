import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { applyStripeEvent } from "../domain/billing";
import { AppError } from "../domain/errors";
import { verifyWebhook } from "../adapters/stripe";
import type { HonoEnv } from "../api/types";

/** Stripe's events are small; this bounds what an unauthenticated caller can make us read. */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

/**
 * POST /webhooks/stripe — thin: the signature is checked on the raw bytes (no JSON middleware
 * before it, no bearer auth: Stripe's signature is the authentication), then the domain applies
 * the event. The answer is quick: emails go out after it (waitUntil).
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
    const event = await verifyWebhook(c.env, await c.req.text(), c.req.header("Stripe-Signature"));
    const outcome = await applyStripeEvent({ ...c.get("domain"), actor: { kind: "system", job: "stripe-webhook" } }, event);
    return c.json({ received: true, outcome }, 200);
  },
);
