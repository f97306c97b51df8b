/** Billing settings: Stripe's key, API origin and timeout, the plans' price ids, the past-due grace period. */
import { z } from "zod";
import type { Env } from "../../env";
import { invalid, parseEnv, serviceOrigin } from "./env";

const priceId = z.string().regex(/^price_[A-Za-z0-9_]+$/);
const pricesSchema = z.record(z.string(), z.strictObject({ base: priceId, usage: priceId }));
/** Plan id → its Stripe prices (the plans catalog reads them as `StripePrices`). */
type PriceIds = z.infer<typeof pricesSchema>;

export const DEFAULT_GRACE_DAYS = 3;

export interface StripeApiConfig {
  secretKey: string;
  /** null: Stripe's own API. */
  apiBase: URL | null;
  timeoutMs: number;
}

export interface BillingConfig {
  /** How long a past_due subscription still starts sessions (0 = none). */
  graceDays: number;
  /**
   * Plan id → prices. Not secret (price ids appear in every checkout page), but they differ
   * between Stripe's test and live modes, so they come from configuration.
   */
  prices: PriceIds;
  /**
   * Null without a key: the deployment has no billing (routes answer 503 billing_not_configured),
   * and nothing falls back to a default key or a fake (local development grants plans, README).
   */
  stripe: StripeApiConfig | null;
  /** The webhook endpoint's signing secret; null: webhooks answer 503 billing_not_configured. */
  webhookSecret: string | null;
}

const billingEnvSchema = z.object({
  BILLING_GRACE_DAYS: z.coerce.number().min(0).max(60).default(DEFAULT_GRACE_DAYS),
  STRIPE_PRICE_IDS: z.string().optional(),
  STRIPE_SECRET_KEY: z.string().optional(),
  STRIPE_WEBHOOK_SECRET: z.string().optional(),
  STRIPE_API_BASE: z.string().optional(),
  STRIPE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(60).default(10),
});

export function parseBillingConfig(env: Env): BillingConfig {
  const e = parseEnv(billingEnvSchema, env);
  let prices: PriceIds = {};
  if (e.STRIPE_PRICE_IDS?.trim()) {
    try {
      prices = pricesSchema.parse(JSON.parse(e.STRIPE_PRICE_IDS));
    } catch {
      throw invalid("STRIPE_PRICE_IDS");
    }
  }
  let apiBase: URL | null = null;
  if (e.STRIPE_API_BASE) {
    const origin = serviceOrigin(e.STRIPE_API_BASE);
    if (!origin) throw invalid("STRIPE_API_BASE (an https origin, or http on loopback)");
    apiBase = new URL(origin);
  }
  return {
    graceDays: e.BILLING_GRACE_DAYS,
    prices,
    stripe: e.STRIPE_SECRET_KEY ? { secretKey: e.STRIPE_SECRET_KEY, apiBase, timeoutMs: e.STRIPE_TIMEOUT_SECONDS * 1000 } : null,
    webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? null,
  };
}
