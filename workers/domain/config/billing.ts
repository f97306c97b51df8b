/** Billing settings: Stripe's key, API origin and timeout, the plans' price ids, the past-due grace period. */
import { z } from "zod";
import type { Env } from "../../env";
import { serviceOrigin } from ".";
import { AppError } from "../errors";

const priceId = z.string().regex(/^price_[A-Za-z0-9_]+$/);
const pricesSchema = z.record(z.string(), z.strictObject({ base: priceId, usage: priceId }));
/** Plan id → its Stripe prices (the plans catalog reads them as `StripePrices`). */
type PriceIds = z.infer<typeof pricesSchema>;

/**
 * STRIPE_PRICE_IDS: plan id → prices. Not secret (price ids appear in every checkout page), but
 * they differ between Stripe's test and live modes, so they come from configuration.
 */
export function stripePriceIds(env: Env): PriceIds {
  if (env.STRIPE_PRICE_IDS === undefined || env.STRIPE_PRICE_IDS.trim() === "") return {};
  try {
    return pricesSchema.parse(JSON.parse(env.STRIPE_PRICE_IDS));
  } catch {
    throw new AppError("not_configured", "Configuration is invalid: STRIPE_PRICE_IDS");
  }
}

export const DEFAULT_GRACE_DAYS = 3;

/** BILLING_GRACE_DAYS: how long a past_due subscription still starts sessions (default 3; 0 = none). */
export function graceDays(env: Env): number {
  if (env.BILLING_GRACE_DAYS === undefined || env.BILLING_GRACE_DAYS === "") return DEFAULT_GRACE_DAYS;
  const days = Number(env.BILLING_GRACE_DAYS);
  if (!Number.isFinite(days) || days < 0 || days > 60) throw new AppError("not_configured", "Configuration is invalid: BILLING_GRACE_DAYS");
  return days;
}

export interface StripeApiConfig {
  secretKey: string;
  /** null: Stripe's own API. */
  apiBase: URL | null;
  timeoutMs: number;
  prices: PriceIds;
}

/**
 * The Stripe API settings, or 503 `billing_not_configured`: a deployment without a key has no
 * billing, and nothing falls back to a default key or a fake (local development grants plans by
 * hand, README).
 */
export function loadStripeApiConfig(env: Env): StripeApiConfig {
  if (!env.STRIPE_SECRET_KEY) throw new AppError("billing_not_configured", "Billing is not configured here (no Stripe key); an administrator grants plans instead.");
  let apiBase: URL | null = null;
  if (env.STRIPE_API_BASE) {
    const origin = serviceOrigin(env.STRIPE_API_BASE);
    if (!origin) throw new AppError("not_configured", "Configuration is invalid: STRIPE_API_BASE (an https origin, or http on loopback)");
    apiBase = new URL(origin);
  }
  const seconds = env.STRIPE_TIMEOUT_SECONDS ? Number(env.STRIPE_TIMEOUT_SECONDS) : 10;
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 60) throw new AppError("not_configured", "Configuration is invalid: STRIPE_TIMEOUT_SECONDS");
  return { secretKey: env.STRIPE_SECRET_KEY, apiBase, timeoutMs: seconds * 1000, prices: stripePriceIds(env) };
}

/** The webhook signing secret, or 503 `billing_not_configured`. */
export function webhookSecret(env: Env): string {
  if (!env.STRIPE_WEBHOOK_SECRET) throw new AppError("billing_not_configured", "Stripe webhooks are not configured here (no signing secret).");
  return env.STRIPE_WEBHOOK_SECRET;
}
