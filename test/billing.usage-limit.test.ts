/**
 * The monthly usage limit: PATCH /v1/account `usageLimitHours`, and the
 * every-minute cron's billing emails at 80% and 100% of it, driven with a controlled scheduled
 * time. Sessions are rows on an offline host (no container: this is about the clock), of accounts
 * with an admin-granted plan, so the other every-minute jobs leave them running. Each test uses its
 * own UTC month, later than the last one's.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { updateAccount } from "../workers/domain/accounts";
import { createDomainContext } from "../workers/context";
import { fixedClock } from "../workers/domain/context";
import worker from "../workers/index";
import { call, createUser, expectProblem, insertSession, outbox, randomId, testEnv, type TestUser } from "./harness";
import { grantPlan } from "./provisioner-harness";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const db = env.DB;

let monthIndex = 0;
/** Each test's month: the first instant of a UTC month, later than the previous test's. */
const nextMonth = () => Date.UTC(2031, 3 * monthIndex++, 1);

async function tick(scheduledTime: number) {
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime }), testEnv(), ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

const setLimit = (user: TestUser, usageLimitHours: unknown) => call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { usageLimitHours } });

/** A verified account with a granted plan and the given limit. */
async function limitedUser(limitHours: number | null): Promise<TestUser> {
  const user = await createUser();
  await grantPlan(user.id);
  if (limitHours !== null) {
    const res = await setLimit(user, limitHours);
    expect(res.status, res.text).toBe(200);
  }
  return user;
}

/** A session row of `userId` from `start` to `end` (null: running). */
const endSession = (id: string, at: number) => db.prepare("update sessions set state = 'ended', ended_at = ? where id = ?").bind(at, id).run();

const limitMails = (user: TestUser) => outbox.filter((m) => m.to === user.email && /GPU-time limit/.test(m.subject));
const approaching = /80% of your monthly GPU-time limit/;
const reached = /reached your monthly GPU-time limit/;

describe("PATCH /v1/account usageLimitHours", () => {
  it("sets, shows, changes and removes the limit, each change audited", async () => {
    const user = await createUser();
    expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json.usageLimitHours).toBeNull();
    for (const hours of [1, 40, 10_000, null]) {
      const res = await setLimit(user, hours);
      expect(res.status, res.text).toBe(200);
      expect(res.json.usageLimitHours).toBe(hours);
      expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json.usageLimitHours).toBe(hours);
    }
    expect((await setLimit(user, null)).status).toBe(200); // unchanged: no audit row
    const { results } = await db.prepare("select detail from account_events where user_id = ? and type = 'usage_limit_changed' order by id").bind(user.id).all<{ detail: string }>();
    expect(results.map((r) => JSON.parse(r.detail))).toEqual([
      { usageLimitHours: 1, previous: null },
      { usageLimitHours: 40, previous: 1 },
      { usageLimitHours: 10_000, previous: 40 },
      { usageLimitHours: null, previous: 10_000 },
    ]);
  });

  it.each([0, -1, 1.5, 10_001, "10", true, {}, [5], 1e308])("%j: 400 validation_failed, the limit unchanged", async (value) => {
    const user = await limitedUser(5);
    const res = await setLimit(user, value);
    expectProblem(res, 400, "validation_failed");
    expect(res.json.errors.map((e: { field: string }) => e.field)).toContain("usageLimitHours");
    expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json.usageLimitHours).toBe(5);
  });
});

describe("usage-limit emails (every-minute cron)", () => {
  it("none under 80%; one at 80%, whatever the repeated or overlapping ticks; one more at 100%", async () => {
    const month = nextMonth();
    const user = await limitedUser(10);
    const start = month + HOUR;
    await insertSession(user.id, { start: month - 5 * HOUR, end: month + HOUR }); // 1 h of it in this month
    const running = await insertSession(user.id, { start: start + HOUR, end: null });

    await tick(start + 8 * HOUR - MINUTE); // 1 h + 6 h 59 min: 79.8%
    expect(limitMails(user)).toHaveLength(0);

    await tick(start + 8 * HOUR); // 8 h: 80%
    const [first] = limitMails(user);
    expect(limitMails(user)).toHaveLength(1);
    expect(first!.subject).toMatch(approaching);
    expect(first!.headers?.["X-Ozekai-Email-Kind"]).toBe("billing");
    expect(first!.text).toContain("8.0 hours in 2031-");
    expect(first!.text).toContain("10-hour monthly limit");
    expect(first!.text).toContain("sessions are not disconnected");

    await tick(start + 8 * HOUR);
    await Promise.all([tick(start + 9 * HOUR), tick(start + 9 * HOUR), tick(start + 9 * HOUR + MINUTE)]);
    expect(limitMails(user)).toHaveLength(1);

    await tick(start + 10 * HOUR - MINUTE);
    expect(limitMails(user)).toHaveLength(1);
    await Promise.all([tick(start + 10 * HOUR), tick(start + 10 * HOUR)]);
    expect(limitMails(user)).toHaveLength(2);
    expect(limitMails(user)[1]!.subject).toMatch(reached);
    expect(limitMails(user)[1]!.text).toContain("sessions are not disconnected");

    await tick(start + 30 * HOUR);
    expect(limitMails(user)).toHaveLength(2);
    await endSession(running, start + 30 * HOUR);
    const row = await db.prepare("select usage_alert_month as month, usage_alert_percent as percent from users where id = ?").bind(user.id).first();
    expect(row).toEqual({ month: new Date(month).toISOString().slice(0, 7), percent: 100 });
  });

  it("usage past both thresholds at once sends the 100% email only", async () => {
    const month = nextMonth();
    const user = await limitedUser(2);
    const id = await insertSession(user.id, { start: month, end: null });
    await tick(month + 3 * HOUR);
    expect(limitMails(user).map((m) => m.subject)).toEqual([expect.stringMatching(reached)]);
    await endSession(id, month + 3 * HOUR);
  });

  it("the next month starts afresh: usage counts from its first instant, and its thresholds are emailed again", async () => {
    const month = nextMonth();
    const user = await limitedUser(10);
    const id = await insertSession(user.id, { start: month, end: null });
    await tick(month + 10 * HOUR);
    expect(limitMails(user)).toHaveLength(1);

    const next = Date.UTC(new Date(month).getUTCFullYear(), new Date(month).getUTCMonth() + 1, 1);
    await tick(next + 7 * HOUR); // the session runs on, but only 7 h of it are in the new month
    expect(limitMails(user)).toHaveLength(1);
    await tick(next + 8 * HOUR);
    expect(limitMails(user)).toHaveLength(2);
    expect(limitMails(user)[1]!.subject).toMatch(approaching);
    expect(limitMails(user)[1]!.text).toContain(`in ${new Date(next).toISOString().slice(0, 7)}`);
    await endSession(id, next + 8 * HOUR);
  });

  it("a session that ended between ticks is counted at the next tick", async () => {
    const month = nextMonth();
    const user = await limitedUser(10);
    await insertSession(user.id, { start: month, end: month + 9 * HOUR });
    await tick(month + 9 * HOUR + 5 * MINUTE);
    expect(limitMails(user).map((m) => m.subject)).toEqual([expect.stringMatching(approaching)]);
  });

  it("no limit, or the limit removed: no email", async () => {
    const month = nextMonth();
    const unlimited = await limitedUser(null);
    const removed = await limitedUser(10);
    expect((await setLimit(removed, null)).status).toBe(200);
    const a = await insertSession(unlimited.id, { start: month, end: null });
    const b = await insertSession(removed.id, { start: month, end: null });
    await tick(month + 500 * HOUR);
    expect(limitMails(unlimited)).toHaveLength(0);
    expect(limitMails(removed)).toHaveLength(0);
    await endSession(a, month + 500 * HOUR);
    await endSession(b, month + 500 * HOUR);
  });

  it("only verified, live accounts are emailed", async () => {
    const month = nextMonth();
    const unverified = await limitedUser(1);
    await db.prepare("update users set email_verified_at = null where id = ?").bind(unverified.id).run();
    const deleted = await limitedUser(1);
    const a = await insertSession(unverified.id, { start: month, end: null });
    const b = await insertSession(deleted.id, { start: month, end: null });
    expect((await call("DELETE", "/v1/account", { ip: deleted.ip, token: deleted.accessToken, body: { password: deleted.password } })).status).toBe(202);
    await tick(month + 2 * HOUR);
    expect(limitMails(unverified)).toHaveLength(0);
    expect(limitMails(deleted)).toHaveLength(0);
    await endSession(a, month + 2 * HOUR);
    await endSession(b, month + 2 * HOUR);
  });

  it("a limit raised above the month's usage warns again at 80% of the new limit; one lowered below it says it is reached", async () => {
    const month = nextMonth();
    const user = await limitedUser(10);
    const id = await insertSession(user.id, { start: month, end: null });
    await tick(month + 8 * HOUR);
    expect(limitMails(user)).toHaveLength(1);

    expect((await setLimit(user, 20)).status).toBe(200);
    await tick(month + 8 * HOUR + MINUTE); // 40% of 20 h
    await tick(month + 16 * HOUR - MINUTE);
    expect(limitMails(user)).toHaveLength(1);
    await tick(month + 16 * HOUR);
    expect(limitMails(user)).toHaveLength(2);
    expect(limitMails(user)[1]!.text).toContain("20-hour monthly limit");

    expect((await setLimit(user, 20)).status).toBe(200); // the same limit again resets nothing
    await tick(month + 16 * HOUR + MINUTE);
    expect(limitMails(user)).toHaveLength(2);

    expect((await setLimit(user, 12)).status).toBe(200);
    await tick(month + 16 * HOUR + 2 * MINUTE);
    expect(limitMails(user)).toHaveLength(3);
    expect(limitMails(user)[2]!.subject).toMatch(reached);
    expect(limitMails(user)[2]!.text).toContain("12-hour monthly limit");
    await endSession(id, month + 17 * HOUR);
  });

  it("a limit set below this month's usage is emailed at once, with no session running", async () => {
    // The domain call with a controlled clock: the API's clock is the real one.
    const month = nextMonth();
    const user = await limitedUser(null);
    await insertSession(user.id, { start: month, end: month + 6 * HOUR });
    const pending: Promise<unknown>[] = [];
    const ctx = await createDomainContext(testEnv(), {
      clock: fixedClock(month + 3 * 24 * HOUR),
      actor: { kind: "user", userId: user.id },
      requestId: `test-${randomId()}`,
      waitUntil: (promise) => pending.push(promise),
    });
    expect((await updateAccount(ctx, user.id, { usageLimitHours: 7 })).usageLimitHours).toBe(7);
    await Promise.all(pending);
    expect(limitMails(user).map((m) => m.subject)).toEqual([expect.stringMatching(approaching)]);
    await updateAccount(ctx, user.id, { usageLimitHours: 5 });
    await Promise.all(pending);
    expect(limitMails(user).map((m) => m.subject)).toEqual([expect.stringMatching(approaching), expect.stringMatching(reached)]);
  });
});
