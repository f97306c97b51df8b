/**
 * Correction reaches Stripe (policy §7 "Correction", §4): a confirmed email change (or its revert
 * from the old address) is sent to the Stripe customer through the deletion's retried outbox, with
 * the email and nothing else; accounts without a customer queue nothing; a deletion supersedes a
 * pending update. Against the local fake Stripe, cron driven as test/billing.deletion.test.ts does.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingRow, stripeRequests } from "./billing-harness";
import { call, createUser, randomId, runCron, type TestUser, tokenFromEmail } from "./harness";

const MINUTE = 60_000;
const EVERY_MINUTE = "* * * * *";
const db = env.DB;
const failing = { STRIPE_API_BASE: env.TEST_FAILING_STRIPE_URL };

const newAddress = () => `u-${randomId()}@example.com`;
const outboxRow = (userId: string) => db.prepare("select * from deletion_outbox where user_id = ?").bind(userId).first<Record<string, unknown>>();
const customerCalls = async (customerId: string, url?: string) => (await stripeRequests(url)).filter((r) => r.path === `/v1/customers/${customerId}`);

/** A user with a Stripe customer (a checkout through the API). */
async function customer(): Promise<TestUser & { customerId: string }> {
  const user = await createUser();
  const checkout = await call("POST", "/v1/billing/checkout", { ip: user.ip, token: user.accessToken, body: { planId: "cpu-small" } });
  expect(checkout.status, checkout.text).toBe(200);
  return { ...user, customerId: (await billingRow(user.id))!.stripe_customer_id as string };
}

/** The user changes the address and confirms it from the new one. */
async function changeEmail(user: TestUser, to: string) {
  const patch = await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { email: to, currentPassword: user.password } });
  expect(patch.status, patch.text).toBe(200);
  const verified = await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: tokenFromEmail(to, /Confirm your new email address/) } });
  expect(verified.status, verified.text).toBe(200);
}

describe("a corrected email address reaches Stripe", () => {
  it("the confirmed change queues a customer update that the cron sends with exactly the email, once", async () => {
    const user = await customer();
    const next = newAddress();
    await changeEmail(user, next);
    expect(await outboxRow(user.id)).toMatchObject({ operation: "update_email", email: next, stripe_customer_id: user.customerId, stripe_subscription_id: null, attempts: 0 });
    // Nothing goes to Stripe in the request itself.
    expect((await customerCalls(user.customerId)).filter((r) => r.method === "POST")).toEqual([]);

    await runCron(EVERY_MINUTE, Date.now() + MINUTE);
    const sent = await customerCalls(user.customerId);
    expect(sent.map((r) => [r.method, r.form])).toEqual([["POST", { email: next }]]);
    expect(await outboxRow(user.id)).toBeNull();
    expect((await db.prepare("select actor from account_events where user_id = ? and type = 'stripe_customer_updated'").bind(user.id).all()).results).toEqual([
      { actor: "system:stripe-erasure" },
    ]);
    await runCron(EVERY_MINUTE, Date.now() + 2 * MINUTE);
    expect(await customerCalls(user.customerId)).toHaveLength(1);
  });

  it("the old address's revert sends the restored address", async () => {
    const user = await customer();
    const intruder = newAddress();
    await changeEmail(user, intruder);
    const res = await call("POST", "/v1/auth/revert-email", { ip: user.ip, body: { token: tokenFromEmail(user.email, /Your email address was changed/) } });
    expect(res.status, res.text).toBe(200);
    // The revert replaced the pending update: one call, with the restored address.
    expect(await outboxRow(user.id)).toMatchObject({ operation: "update_email", email: user.email });
    await runCron(EVERY_MINUTE, Date.now() + MINUTE);
    expect((await customerCalls(user.customerId)).map((r) => r.form)).toEqual([{ email: user.email }]);
  });

  it("Stripe failing: the update is retried with backoff until Stripe takes it", async () => {
    const user = await customer();
    const next = newAddress();
    await changeEmail(user, next);
    const queuedAt = (await outboxRow(user.id))!.next_attempt_at as number;

    await runCron(EVERY_MINUTE, queuedAt, failing);
    expect((await customerCalls(user.customerId, env.TEST_FAILING_STRIPE_URL)).length).toBeGreaterThan(0);
    expect(await outboxRow(user.id)).toMatchObject({ operation: "update_email", email: next, attempts: 1, last_error_code: "stripe_unavailable", next_attempt_at: queuedAt + MINUTE });
    expect(await customerCalls(user.customerId)).toEqual([]);

    await runCron(EVERY_MINUTE, queuedAt + MINUTE);
    expect((await customerCalls(user.customerId)).map((r) => r.form)).toEqual([{ email: next }]);
    expect(await outboxRow(user.id)).toBeNull();
  });

  it("an account without a Stripe customer queues nothing", async () => {
    const user = await createUser();
    await changeEmail(user, newAddress());
    expect(await outboxRow(user.id)).toBeNull();
  });

  it("a deletion after a pending update still deletes the customer (and sends no update)", async () => {
    const user = await customer();
    await changeEmail(user, newAddress());
    const deleted = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
    expect(deleted.status, deleted.text).toBe(202);
    expect(await outboxRow(user.id)).toMatchObject({ operation: "delete", email: null, attempts: 0 });

    await runCron(EVERY_MINUTE, Date.now() + MINUTE);
    expect((await customerCalls(user.customerId)).map((r) => r.method)).toEqual(["DELETE"]);
    expect(await outboxRow(user.id)).toBeNull();
  });
});
