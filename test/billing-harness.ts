/**
 * Billing test helpers: Stripe webhooks signed with real HMAC-SHA-256 (the Stripe-Signature scheme,
 * computed here with crypto.subtle, not by the SDK under test), billing rows, and the requests the
 * local fake Stripe recorded (test/fake-stripe.ts).
 */
import { env } from "cloudflare:workers";
import { call, randomId } from "./harness";
import type { RecordedStripeRequest } from "./provided-context.d";

const hex = (bytes: ArrayBuffer) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** `t=<ts>,v1=<hex HMAC-SHA-256 of "<ts>.<body>">` keyed with the endpoint secret. */
export async function stripeSignature(body: string, options: { timestamp?: number; secret?: string } = {}): Promise<string> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(options.secret ?? env.STRIPE_WEBHOOK_SECRET!), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${timestamp}.${body}`));
  return `t=${timestamp},v1=${hex(mac)}`;
}

export interface StripeEventInput {
  type: string;
  object: Record<string, unknown>;
  /** Seconds since the epoch; default now. */
  created?: number;
  id?: string;
}

export const stripeEvent = (input: StripeEventInput) => ({
  id: input.id ?? `evt_${randomId()}`,
  object: "event",
  api_version: "2026-10-28.endive",
  created: input.created ?? Math.floor(Date.now() / 1000),
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: input.type,
  data: { object: input.object },
});

/** Delivers a body to POST /webhooks/stripe, signed unless a signature is given. */
export async function deliver(event: unknown, options: { signature?: string | null; timestamp?: number; rawBody?: string; env?: Cloudflare.Env } = {}) {
  const body = options.rawBody ?? JSON.stringify(event);
  const signature = options.signature === undefined ? await stripeSignature(body, { timestamp: options.timestamp }) : options.signature;
  return call("POST", "/webhooks/stripe", {
    rawBody: body,
    headers: { "Content-Type": "application/json; charset=utf-8", ...(signature === null ? {} : { "Stripe-Signature": signature }) },
    ...(options.env ? { env: options.env } : {}),
  });
}

/** A billing account as the first checkout leaves it: a Stripe customer, no subscription yet. */
export async function linkCustomer(userId: string, customerId = `cus_${randomId()}`): Promise<string> {
  const now = Date.now();
  await env.DB.prepare("insert into billing_accounts (user_id, stripe_customer_id, created_at, updated_at) values (?, ?, ?, ?)").bind(userId, customerId, now, now).run();
  return customerId;
}

export async function billingRow(userId: string) {
  return env.DB.prepare("select * from billing_accounts where user_id = ?").bind(userId).first<Record<string, unknown>>();
}

/** Sets a subscription's state directly, for the entitlement matrix. */
export async function setSubscription(userId: string, state: { status: string; planId?: string; pastDueSince?: number | null }) {
  const now = Date.now();
  await env.DB.prepare(
    "insert into billing_accounts (user_id, stripe_customer_id, stripe_subscription_id, subscription_status, plan_id, past_due_since, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
  )
    .bind(userId, `cus_${randomId()}`, `sub_${randomId()}`, state.status, state.planId ?? "cpu-small", state.pastDueSince ?? null, now, now)
    .run();
}

/** A Stripe subscription object, with the address-laden neighbours real payloads carry. */
export function subscriptionObject(input: { id: string; customer: string; status: string; price?: string; periodEnd?: number }) {
  return {
    id: input.id,
    object: "subscription",
    customer: input.customer,
    status: input.status,
    metadata: { plan_id: "cpu-small" },
    items: { object: "list", data: [{ id: `si_${randomId()}`, price: { id: input.price ?? "price_cpusmall_base" }, current_period_end: input.periodEnd ?? 1_900_000_000 }] },
  };
}

/** Every row of every application table, by table. */
export async function allRows(): Promise<Record<string, Record<string, unknown>[]>> {
  const { results } = await env.DB.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'").all<{ name: string }>();
  const dump: Record<string, Record<string, unknown>[]> = {};
  for (const { name } of results) dump[name] = (await env.DB.prepare(`select * from "${name.replaceAll('"', '""')}"`).all<Record<string, unknown>>()).results;
  return dump;
}

/** Every row of every application table, as text: for "is this string stored anywhere?" checks. */
export const dumpAllTables = async (): Promise<string> => JSON.stringify(await allRows());

/** Makes `object` the subscription's current state at the fake Stripe (what a GET returns; a DELETE cancels it). */
export async function putSubscription(object: { id: string }, url = env.STRIPE_API_BASE!): Promise<void> {
  const res = await fetch(`${url}/__subscriptions`, { method: "POST", body: JSON.stringify(object) });
  if (!res.ok) throw new Error(`the fake Stripe refused the subscription: ${res.status}`);
}

/** What the fake Stripe at `url` recorded (all tests' requests: filter by what yours sent). */
export async function stripeRequests(url = env.STRIPE_API_BASE!): Promise<RecordedStripeRequest[]> {
  return (await fetch(`${url}/__requests`)).json();
}
