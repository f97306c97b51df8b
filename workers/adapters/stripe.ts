/**
 * The Stripe adapter: the only code that talks to Stripe. The SDK runs on the Worker's fetch (no
 * Node http), against Stripe's API or, in tests, a local fake (STRIPE_API_BASE, loopback only).
 */
import Stripe from "stripe";
import type { StripeApiConfig } from "../domain/config";
import { AppError } from "../domain/errors";
import type { Log } from "./log";

export type { Stripe };

const clients = new Map<string, Stripe>();

/** One client per configuration per isolate. */
export function stripeClient(config: StripeApiConfig): Stripe {
  const key = JSON.stringify([config.secretKey, config.apiBase?.origin, config.timeoutMs]);
  let client = clients.get(key);
  if (!client) {
    const base = config.apiBase;
    client = new Stripe(config.secretKey, {
      httpClient: Stripe.createFetchHttpClient(),
      timeout: config.timeoutMs,
      // The SDK sends an idempotency key with every POST, so a retry never creates twice.
      maxNetworkRetries: 1,
      telemetry: false,
      ...(base ? { protocol: base.protocol === "http:" ? ("http" as const) : ("https" as const), host: base.hostname, port: base.port || (base.protocol === "https:" ? 443 : 80) } : {}),
    });
    clients.set(key, client);
  }
  return client;
}

/**
 * Runs a Stripe API call; any failure (an error answer, a timeout, a dropped connection) becomes
 * 502 `stripe_unavailable`. Logged by code and Stripe's request id only: Stripe's messages may
 * quote what we sent.
 */
export async function stripeCall<T>(log: Log, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw unavailable(log, operation, error);
  }
}

/**
 * A deletion (or a customer update: a deleted customer has nothing left to correct) that may be repeated (a retry, an overlapping run, one done at Stripe's dashboard):
 * Stripe answers 404 for a customer already deleted and for a subscription already canceled,
 * which is the outcome asked for, so it counts as done. Other failures as `stripeCall`.
 */
export async function stripeUnlessGone(log: Log, operation: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError && error.statusCode === 404) return;
    throw unavailable(log, operation, error);
  }
}

function unavailable(log: Log, operation: string, error: unknown): AppError {
  const code = error instanceof Stripe.errors.StripeError ? error.type : error instanceof Error ? error.name : "unknown";
  log.warn("stripe_call_failed", { operation, code });
  return new AppError("stripe_unavailable", "Stripe could not be reached or refused the request; nothing was changed. Try again shortly.");
}

const cryptoProvider = Stripe.createSubtleCryptoProvider();

/** Stripe's own tolerance: a signature older than 5 minutes is a replay. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Verifies the Stripe-Signature header over the RAW body (HMAC-SHA-256 with SubtleCrypto) and
 * parses the event; 400 `webhook_invalid` for anything unsigned, wrongly signed, stale or not JSON.
 */
export async function verifyWebhook(secret: string, rawBody: string, signature: string | undefined): Promise<Stripe.Event> {
  if (!signature) throw new AppError("webhook_invalid", "The Stripe-Signature header is missing.");
  try {
    return await Stripe.webhooks.constructEventAsync(rawBody, signature, secret, WEBHOOK_TOLERANCE_SECONDS, cryptoProvider);
  } catch {
    throw new AppError("webhook_invalid", "The signature does not match this endpoint's secret, is older than 5 minutes, or the body is not an event.");
  }
}
