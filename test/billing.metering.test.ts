/**
 * Usage metering: the hourly cron through the real scheduled handler with a
 * controlled clock, sessions written straight to D1, meter events sent to the local fake Stripe
 * (which accepts each identifier once, as Stripe does, and records every request).
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/index";
import { setSubscription, stripeRequests } from "./billing-harness";
import { createUser, insertSession, testEnv } from "./harness";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const db = env.DB;
const thisHour = () => Math.floor(Date.now() / HOUR) * HOUR;

async function tick(scheduledTime: number, overrides: Partial<Cloudflare.Env> = {}) {
  const controller = createScheduledController({ cron: "17 * * * *", scheduledTime });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, { ...testEnv(), ...overrides } as Cloudflare.Env, ctx);
  } catch {
    // A failing job surfaces as a thrown error (cron status); the assertions read D1 and Stripe.
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

/** A session of `userId` that ran from `start` to `end` (null: still running). */
async function subscribedUser() {
  const user = await createUser();
  await setSubscription(user.id, { status: "active" });
  const row = await db.prepare("select stripe_customer_id from billing_accounts where user_id = ?").bind(user.id).first<{ stripe_customer_id: string }>();
  return { user, customerId: row!.stripe_customer_id };
}

const recordsOf = async (sessionId: string) =>
  (await db.prepare("select * from usage_records where session_id = ? order by interval_start").bind(sessionId).all<Record<string, unknown>>()).results;
const meterEventsOf = async (sessionId: string, url = env.STRIPE_API_BASE!) =>
  ((await (await fetch(`${url}/__meter_events`)).json()) as { identifier: string; event_name: string; timestamp: number; payload: Record<string, string> }[]).filter((e) =>
    e.identifier.startsWith(`ozekai-usage-${sessionId}-`),
  );

describe("metering", () => {
  it("reports each closed hour once: repeated and overlapping runs send one meter event per identifier", async () => {
    const { user, customerId } = await subscribedUser();
    const base = thisHour() - 10 * DAY;
    const sessionId = await insertSession(user.id, { start: base + HOUR / 2, end: base + 2 * HOUR + HOUR / 2 });
    const at = base + 3 * HOUR + 17 * 60_000;
    await tick(at);
    await tick(at);
    await Promise.all([tick(at + 60_000), tick(at + 60_000), tick(at + HOUR)]);

    const records = await recordsOf(sessionId);
    expect(records.map((r) => [r.interval_start, r.interval_end, r.quantity])).toEqual([
      [base, base + HOUR, 1800],
      [base + HOUR, base + 2 * HOUR, 3600],
      [base + 2 * HOUR, base + 3 * HOUR, 1800],
    ]);
    for (const r of records) {
      expect(r.reported_at).not.toBeNull();
      expect(r.expired_at).toBeNull();
      expect(r.user_id).toBe(user.id);
    }
    const events = await meterEventsOf(sessionId);
    expect(events.map((e) => e.identifier).sort()).toEqual(records.map((r) => r.id).sort());
    expect(new Set(events.map((e) => e.identifier)).size).toBe(3);
    for (const e of events) {
      expect(e.event_name).toBe("ozekai_session_seconds");
      expect(e.payload.stripe_customer_id).toBe(customerId);
    }
    expect(events.map((e) => Number(e.payload.value)).sort()).toEqual([1800, 1800, 3600]);
    // Policy §4: the meter event carries the customer id, the quantity, the identifier and the time — nothing else.
    const sent = (await stripeRequests()).filter((r) => r.path === "/v1/billing/meter_events" && r.form.identifier?.startsWith(`ozekai-usage-${sessionId}-`));
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const r of sent) expect(Object.keys(r.form).sort()).toEqual(["event_name", "identifier", "payload[stripe_customer_id]", "payload[value]", "timestamp"]);
  });

  it("Stripe down: records stay unreported, then a later tick catches up", async () => {
    const { user } = await subscribedUser();
    const base = thisHour() - 5 * DAY;
    const sessionId = await insertSession(user.id, { start: base, end: base + HOUR + HOUR / 2 });
    await tick(base + 2 * HOUR + 17 * 60_000, { STRIPE_API_BASE: env.TEST_FAILING_STRIPE_URL });
    const pending = await recordsOf(sessionId);
    expect(pending.map((r) => r.quantity)).toEqual([3600, 1800]);
    for (const r of pending) expect(r.reported_at).toBeNull();
    expect(await meterEventsOf(sessionId)).toEqual([]);
    expect(await meterEventsOf(sessionId, env.TEST_FAILING_STRIPE_URL)).toEqual([]);

    await tick(base + 3 * HOUR + 17 * 60_000);
    const caughtUp = await recordsOf(sessionId);
    expect(caughtUp).toHaveLength(2);
    for (const r of caughtUp) expect(r.reported_at).toBe(base + 3 * HOUR + 17 * 60_000);
    expect(await meterEventsOf(sessionId)).toHaveLength(2);
  });

  it("usage older than Stripe's 35-day window is marked not reportable, never sent", async () => {
    const { user } = await subscribedUser();
    const hour = thisHour();
    const sessionId = await insertSession(user.id, { start: hour - 35 * DAY - 2 * HOUR, end: hour - 35 * DAY + 2 * HOUR });
    await tick(hour + 17 * 60_000);
    const records = await recordsOf(sessionId);
    expect(records.map((r) => [r.reported_at === null, r.expired_at === null])).toEqual([
      [true, false],
      [true, false],
      [false, true],
      [false, true],
    ]);
    expect((await meterEventsOf(sessionId)).map((e) => e.identifier).sort()).toEqual([records[2]!.id, records[3]!.id].sort());
  });

  it("meters only subscribed accounts: an admin-granted plan or no billing at all is not billed", async () => {
    const granted = await subscribedUser();
    await db.prepare("update users set plan_id = 'cpu-small' where id = ?").bind(granted.user.id).run();
    const unbilled = await createUser();
    const base = thisHour() - 2 * DAY;
    const grantedSession = await insertSession(granted.user.id, { start: base, end: base + HOUR });
    const unbilledSession = await insertSession(unbilled.id, { start: base, end: null });
    await tick(base + 3 * HOUR + 17 * 60_000);
    expect(await recordsOf(grantedSession)).toEqual([]);
    expect(await recordsOf(unbilledSession)).toEqual([]);
    expect(await meterEventsOf(grantedSession)).toEqual([]);
  });
});
