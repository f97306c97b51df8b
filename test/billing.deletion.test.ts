/**
 * Account deletion and billing (policy §7 deletion; §6 what billing law keeps), against the local
 * fake Stripe: no table keeps anything of the person beyond what the inventory says is kept; the
 * deletion outbox has the subscription canceled and the customer deleted at Stripe by the
 * every-minute cron, retried until Stripe answers; webhooks for the deleted account change
 * nothing; the billing row that was kept goes 12 months later.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { inventory, tableName } from "../schema/inventory";
import { ERASURES_PER_TICK } from "../workers/domain/billing";
import { allRows, billingRow, deliver, putSubscription, stripeEvent, stripeRequests, subscriptionObject } from "./billing-harness";
import { accessLogLines, call, createUser, drainAccessLog, insertSession, outbox, randomId, runCron, type TestUser } from "./harness";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const EVERY_MINUTE = "* * * * *";
const HOURLY = "17 * * * *";
const db = env.DB;
const failing = { STRIPE_API_BASE: env.TEST_FAILING_STRIPE_URL };

/** A user who checked out through the API (the fake Stripe holds the customer) and whose subscription is active, as Stripe says. */
async function subscribedUser() {
  const user = await createUser();
  const checkout = await call("POST", "/v1/billing/checkout", { ip: user.ip, token: user.accessToken, body: { planId: "cpu-small" } });
  expect(checkout.status, checkout.text).toBe(200);
  const customerId = (await billingRow(user.id))!.stripe_customer_id as string;
  const subscriptionId = `sub_${randomId()}`;
  const subscription = subscriptionObject({ id: subscriptionId, customer: customerId, status: "active" });
  await putSubscription(subscription);
  const created = await deliver(stripeEvent({ type: "customer.subscription.created", object: subscription, created: Math.floor(Date.now() / 1000) - 120 }));
  expect(created.json?.outcome, created.text).toBe("applied");
  expect((await billingRow(user.id))!.subscription_status).toBe("active");
  return { user, customerId, subscriptionId };
}

async function deleteAccount(user: TestUser) {
  const res = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
  expect(res.status, res.text).toBe(202);
  return (await db.prepare("select deleted_at from users where id = ?").bind(user.id).first<{ deleted_at: number }>())!.deleted_at;
}

const outboxRow = (userId: string) => db.prepare("select * from deletion_outbox where user_id = ?").bind(userId).first<Record<string, unknown>>();
const stripeCallsFor = async (customerId: string, subscriptionId: string, url?: string) =>
  (await stripeRequests(url)).filter((r) => r.method === "DELETE" && (r.path === `/v1/subscriptions/${subscriptionId}` || r.path === `/v1/customers/${customerId}`));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("deleting an account with a subscription and usage (fake Stripe)", () => {
  it("leaves no username, email, IP or plan of the person in any table, beyond the rows the inventory keeps for billing law", async () => {
    const { user, customerId, subscriptionId } = await subscribedUser();
    // An hour of usage metered and reported, the last half hour not yet (the hour is still open).
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const sessionId = await insertSession(user.id, { start: hour - 3 * HOUR, end: hour - 30 * MINUTE });
    await runCron(HOURLY, hour - HOUR + 17 * MINUTE);
    const metered = (await db.prepare("select count(*) as n from usage_records where session_id = ? and reported_at is not null").bind(sessionId).first<{ n: number }>())!.n;
    expect(metered).toBe(2);
    await db.prepare("insert into usage_samples (session_id, user_id, at, gpu_count, shells_attached) values (?, ?, ?, 0, 0)").bind(sessionId, user.id, hour - 2 * HOUR).run();
    // A limit, its alert state and a granted plan on the account itself.
    expect((await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { usageLimitHours: 10 } })).status).toBe(200);
    await db.prepare("update users set plan_id = 'cpu-small', usage_alert_month = '2031-01', usage_alert_percent = 80 where id = ?").bind(user.id).run();

    // The lines so far stored in R2 with their IPs: the deletion must rewrite them.
    await drainAccessLog();
    expect(JSON.stringify(await accessLogLines())).toContain(JSON.stringify(user.ip));
    const deletedAt = await deleteAccount(user);
    const rows = await allRows();

    // Every table of the database was read, the new ones included.
    const { results: tables } = await db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'").all<{ name: string }>();
    expect(Object.keys(rows).sort()).toEqual(tables.map((t) => t.name).sort());
    expect(Object.keys(rows)).toEqual(expect.arrayContaining(["deletion_outbox", "checkout_claims", "access_log_objects", "billing_accounts", "usage_records"]));

    const text = JSON.stringify(rows);
    expect(text).not.toContain(user.username);
    expect(text).not.toContain(user.email);
    expect(text).not.toContain(JSON.stringify(user.ip));
    // The person's IP was logged (signup, sign-in, signed-in requests): now cleared.
    const lines = (await accessLogLines()).filter((r) => r.user_id === user.id);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.every((r) => r.ip === null && r.user_agent === null)).toBe(true);
    expect(JSON.stringify(await accessLogLines())).not.toContain(JSON.stringify(user.ip));
    // Its index rows went with the IPs: nothing names its objects any more.
    expect(rows.access_log_objects!.filter((r) => r.user_id === user.id)).toEqual([]);

    // The plan only where the inventory keeps rows for billing law (sessions, usage records).
    const keeps = new Set(inventory.filter((e) => e.onDeletion === "keep").map(tableName));
    const ids = [user.id, customerId, subscriptionId, sessionId];
    const withPlan = Object.entries(rows).flatMap(([table, list]) =>
      list.filter((row) => ids.some((id) => JSON.stringify(row).includes(id)) && Object.values(row).includes("cpu-small")).map(() => table),
    );
    expect(withPlan).toEqual(expect.arrayContaining(["sessions", "usage_records"]));
    expect(withPlan.filter((table) => !keeps.has(table))).toEqual([]);

    // The account row is a pseudonym: no personal field, no date but the deletion's.
    const account = rows.users!.find((r) => r.id === user.id)!;
    expect(account).toEqual({
      id: user.id,
      username: `deleted-${user.id}`,
      email: null,
      password_hash: null,
      role: "user",
      plan_id: null,
      created_at: deletedAt,
      email_verified_at: null,
      last_active_at: deletedAt,
      policy_version: expect.any(String),
      age_confirmed_at: deletedAt,
      deleted_at: deletedAt,
      usage_limit_hours: null,
      usage_limit_action: "notify",
      usage_alert_month: null,
      usage_alert_percent: null,
      analysis_objected_at: null,
      policy_accepted_at: null,
    });
    // Billing keeps the Stripe references only, closed at the deletion.
    expect(rows.billing_accounts!.find((r) => r.user_id === user.id)).toMatchObject({
      stripe_customer_id: customerId,
      stripe_subscription_id: subscriptionId,
      subscription_status: null,
      plan_id: null,
      current_period_end: null,
      past_due_since: null,
      last_event_at: null,
      closed_at: deletedAt,
    });
    expect(rows.checkout_claims!.filter((r) => r.user_id === user.id)).toEqual([]);
    expect(rows.deletion_outbox!.filter((r) => r.user_id === user.id)).toEqual([
      { user_id: user.id, operation: "delete", email: null, stripe_customer_id: customerId, stripe_subscription_id: subscriptionId, subscription_canceled_at: null, attempts: 0, next_attempt_at: deletedAt, last_error_code: null, created_at: deletedAt },
    ]);
    // Nothing went to Stripe in the request itself: the outbox does it.
    expect(await stripeCallsFor(customerId, subscriptionId)).toEqual([]);
  });

  it("the cron cancels the subscription (at once, no final invoice, no proration), then deletes the customer; metering stops", async () => {
    const { user, customerId, subscriptionId } = await subscribedUser();
    const hour = Math.floor(Date.now() / HOUR) * HOUR;
    const sessionId = await insertSession(user.id, { start: hour - 2 * HOUR, end: hour - 30 * MINUTE });
    await runCron(HOURLY, hour - HOUR + 17 * MINUTE);
    const before = (await db.prepare("select count(*) as n from usage_records where session_id = ?").bind(sessionId).first<{ n: number }>())!.n;
    const deletedAt = await deleteAccount(user);

    await runCron(EVERY_MINUTE, deletedAt + MINUTE);
    const calls = await stripeCallsFor(customerId, subscriptionId);
    expect(calls.map((r) => r.path)).toEqual([`/v1/subscriptions/${subscriptionId}`, `/v1/customers/${customerId}`]);
    expect(calls[0]!.query).toEqual({ invoice_now: "false", prorate: "false" });
    expect(calls.map((r) => r.idempotencyKey)).toEqual([`ozekai-cancel-${subscriptionId}`, `ozekai-delete-customer-${customerId}`]);
    expect(await outboxRow(user.id)).toBeNull();
    expect(await db.prepare("select actor from account_events where user_id = ? and type = 'stripe_customer_deleted'").bind(user.id).all().then((r) => r.results)).toEqual([
      { actor: "system:stripe-erasure" },
    ]);
    // Another tick has nothing left to do for this account.
    await runCron(EVERY_MINUTE, deletedAt + 2 * MINUTE);
    expect(await stripeCallsFor(customerId, subscriptionId)).toHaveLength(2);

    // The half hour after the last metered hour is not recorded, nor anything sent to Stripe's meter.
    await runCron(HOURLY, hour + 17 * MINUTE);
    expect((await db.prepare("select count(*) as n from usage_records where session_id = ?").bind(sessionId).first<{ n: number }>())!.n).toBe(before);
    const meterEvents = (await stripeRequests()).filter((r) => r.path === "/v1/billing/meter_events" && r.form["payload[stripe_customer_id]"] === customerId);
    expect(meterEvents.length).toBe(before);
  });

  it("Stripe failing, then recovering: the cron retries with a growing delay until cancel and delete are confirmed, logging no personal data (fake Stripe)", async () => {
    const { user, customerId, subscriptionId } = await subscribedUser();
    const deletedAt = await deleteAccount(user);
    const warn = vi.spyOn(console, "warn");

    await runCron(EVERY_MINUTE, deletedAt, failing);
    // The cancel was tried (the SDK retries a 500 once); the customer waits for it.
    const tried = (await stripeCallsFor(customerId, subscriptionId, env.TEST_FAILING_STRIPE_URL)).map((r) => r.path);
    expect([...new Set(tried)]).toEqual([`/v1/subscriptions/${subscriptionId}`]);
    expect(await outboxRow(user.id)).toMatchObject({ attempts: 1, last_error_code: "stripe_unavailable", subscription_canceled_at: null, next_attempt_at: deletedAt + MINUTE });

    // Not due yet: nothing is tried, even with Stripe back.
    await runCron(EVERY_MINUTE, deletedAt + 30_000);
    expect(await stripeCallsFor(customerId, subscriptionId)).toEqual([]);

    await runCron(EVERY_MINUTE, deletedAt + MINUTE, failing);
    expect(await outboxRow(user.id)).toMatchObject({ attempts: 2, next_attempt_at: deletedAt + 3 * MINUTE });

    await runCron(EVERY_MINUTE, deletedAt + 3 * MINUTE);
    expect((await stripeCallsFor(customerId, subscriptionId)).map((r) => r.path)).toEqual([`/v1/subscriptions/${subscriptionId}`, `/v1/customers/${customerId}`]);
    expect(await outboxRow(user.id)).toBeNull();
    // Stripe now holds the subscription canceled and no such customer.
    expect(await (await fetch(`${env.STRIPE_API_BASE}/v1/subscriptions/${subscriptionId}`)).json()).toMatchObject({ status: "canceled" });

    const deferred = warn.mock.calls.map((args) => String(args[0])).filter((line) => line.includes("stripe_erasure_deferred"));
    expect(deferred).toHaveLength(2);
    for (const line of deferred) for (const secret of [user.id, customerId, subscriptionId, user.email, user.username]) expect(line).not.toContain(secret);
  });

  it("404 from Stripe counts as done: a subscription canceled and a customer deleted before (at Stripe's dashboard)", async () => {
    const user = await createUser();
    const customerId = `cus_${randomId()}`;
    const subscriptionId = `sub_${randomId()}`;
    const now = Date.now();
    await db
      .prepare("insert into billing_accounts (user_id, stripe_customer_id, stripe_subscription_id, subscription_status, created_at, updated_at) values (?, ?, ?, 'active', ?, ?)")
      .bind(user.id, customerId, subscriptionId, now, now)
      .run();
    const deletedAt = await deleteAccount(user);
    await runCron(EVERY_MINUTE, deletedAt);
    expect((await stripeCallsFor(customerId, subscriptionId)).map((r) => r.path)).toEqual([`/v1/subscriptions/${subscriptionId}`, `/v1/customers/${customerId}`]);
    expect(await outboxRow(user.id)).toBeNull();
  });

  it(`works at most ${ERASURES_PER_TICK} accounts a tick, the rest on the next`, async () => {
    const now = Date.now() + DAY;
    const ids = Array.from({ length: ERASURES_PER_TICK + 3 }, () => `usr_${randomId()}`);
    await db.batch(
      ids.map((id) => db.prepare("insert into deletion_outbox (user_id, stripe_customer_id, next_attempt_at, created_at) values (?, ?, ?, ?)").bind(id, `cus_${randomId()}`, now, now)),
    );
    await runCron(EVERY_MINUTE, now);
    const left = (await db.prepare(`select count(*) as n from deletion_outbox where user_id in (${ids.map(() => "?").join(",")})`).bind(...ids).first<{ n: number }>())!.n;
    expect(left).toBeGreaterThanOrEqual(3);
    expect(left).toBeLessThan(ids.length);
    await runCron(EVERY_MINUTE, now + MINUTE);
    expect((await db.prepare(`select count(*) as n from deletion_outbox where user_id in (${ids.map(() => "?").join(",")})`).bind(...ids).first<{ n: number }>())!.n).toBe(0);
  });
});

describe("webhooks for a deleted account", () => {
  it("are acknowledged with 2xx and change nothing, not even the event log; no email goes out", async () => {
    const { user, customerId, subscriptionId } = await subscribedUser();
    await deleteAccount(user);
    const before = await billingRow(user.id);
    const mails = outbox.length;
    const late = Math.floor(Date.now() / 1000) + 5;
    const events = [
      stripeEvent({ type: "customer.subscription.updated", object: subscriptionObject({ id: subscriptionId, customer: customerId, status: "past_due" }), created: late }),
      stripeEvent({ type: "invoice.payment_failed", object: { customer: customerId }, created: late + 1 }),
      stripeEvent({ type: "customer.subscription.deleted", object: subscriptionObject({ id: subscriptionId, customer: customerId, status: "canceled" }), created: late + 2 }),
      stripeEvent({ type: "checkout.session.completed", object: { customer: customerId, subscription: `sub_${randomId()}`, payment_status: "paid", metadata: { plan_id: "h100-1" } } }),
    ];
    for (const event of events) {
      const res = await deliver(event);
      expect(res.status, res.text).toBe(200);
      expect(res.json).toEqual({ received: true, outcome: "account_deleted" });
    }
    expect(await billingRow(user.id)).toEqual(before);
    const recorded = await db.prepare(`select count(*) as n from stripe_events where event_id in (${events.map(() => "?").join(",")})`).bind(...events.map((e) => e.id)).first<{ n: number }>();
    expect(recorded!.n).toBe(0);
    expect(outbox.length).toBe(mails);
  });
});

describe("what billing law kept goes when its period ends", () => {
  // Last in the file: the far-future ticks purge every table's old rows of this file's D1.
  it("the closed billing row is deleted 12 months after the deletion by the retention job (364 days kept, 366 gone)", async () => {
    const { user } = await subscribedUser();
    const deletedAt = await deleteAccount(user);
    await runCron(HOURLY, deletedAt + 364 * DAY);
    expect(await billingRow(user.id)).not.toBeNull();
    await runCron(HOURLY, deletedAt + 366 * DAY);
    expect(await billingRow(user.id)).toBeNull();
    // The purge follows the inventory's rule for the table.
    expect(inventory.find((e) => tableName(e) === "billing_accounts")!.retention).toMatchObject({ kind: "time", columns: ["closed_at"], days: 365 });
  });
});
