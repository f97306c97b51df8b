/**
 * The usage limit's action (docs/decisions/0024): PATCH /v1/account `usageLimitAction`, the
 * disconnect at the limit through the normal disconnect path against the real provisioner, with
 * the clock moved (sessions started and ticks run at controlled times in a month of their own),
 * the connect refused while over it and allowed again once the limit is raised, removed or the
 * month has turned.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { connect as connectSession, disconnect } from "../workers/domain/sessions";
import { createDomainContext } from "../workers/context";
import { fixedClock } from "../workers/domain/context";
import { call, createUser, expectProblem, insertSession, outbox, randomId, runCron, testEnv, type TestUser } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, liveSessionsOf } from "./provisioner-harness";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const db = env.DB;

const patch = (user: TestUser, body: Record<string, unknown>) => call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body });
const account = async (user: TestUser) => (await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json;
const tick = (at: number) => runCron("* * * * *", at);
const auditOf = async (userId: string, type: string) =>
  (await db.prepare("select detail, actor from account_events where user_id = ? and type = ? order by id").bind(userId, type).all<{ detail: string; actor: string }>()).results.map((r) => ({
    ...JSON.parse(r.detail),
    actor: r.actor,
  }));
const mailsTo = (user: TestUser, subject: RegExp) => outbox.filter((m) => m.to === user.email && subject.test(m.subject));
/** The API runs on the real clock: in the first hours of a UTC month there is no hour of it to spend. */
const EARLY_IN_MONTH = Date.now() - Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1) < 2 * HOUR;
const DISCONNECTED = /disconnected: your monthly limit is reached/;
const REACHED = /reached your monthly GPU-time limit/;

/** The domain's connect and disconnect at a controlled time (the API's clock is the real one). */
async function at(time: number, userId: string) {
  return createDomainContext(testEnv(), { clock: fixedClock(time), actor: { kind: "user", userId }, requestId: `test-${randomId()}`, waitUntil: () => undefined });
}

describe("PATCH /v1/account usageLimitAction", () => {
  it("is notify by default; set, shown and changed, each change audited; anything else is refused", async () => {
    const user = await createUser();
    expect(await account(user)).toMatchObject({ usageLimitHours: null, usageLimitAction: "notify" });
    const res = await patch(user, { usageLimitAction: "disconnect" });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ usageLimitAction: "disconnect", usageLimitHours: null });
    expect((await patch(user, { usageLimitHours: 5, usageLimitAction: "disconnect" })).json).toMatchObject({ usageLimitHours: 5, usageLimitAction: "disconnect" });
    expect((await patch(user, { usageLimitAction: "notify" })).json).toMatchObject({ usageLimitHours: 5, usageLimitAction: "notify" });
    expect(await auditOf(user.id, "usage_limit_action_changed")).toEqual([
      { usageLimitAction: "disconnect", previous: "notify", actor: `user:${user.id}` },
      { usageLimitAction: "notify", previous: "disconnect", actor: `user:${user.id}` },
    ]);
    for (const value of ["stop", "", null, 1, true, ["disconnect"]]) {
      const bad = await patch(user, { usageLimitAction: value });
      expectProblem(bad, 400, "validation_failed");
      expect(bad.json.errors.map((e: { field: string }) => e.field)).toContain("usageLimitAction");
    }
    expect((await account(user)).usageLimitAction).toBe("notify");
  });

  it.skipIf(EARLY_IN_MONTH)("shows in the usage report's month, with whether sessions are refused now", async () => {
    const user = await createUser();
    expect((await patch(user, { usageLimitHours: 1, usageLimitAction: "disconnect" })).status).toBe(200);
    const window = () => `?from=${new Date(Date.now() - 24 * HOUR).toISOString()}&to=${new Date(Date.now() + HOUR).toISOString()}`;
    const before = await call("GET", `/v1/usage${window()}`, { ip: user.ip, token: user.accessToken });
    expect(before.status, before.text).toBe(200);
    expect(before.json.thisMonth).toMatchObject({ limitHours: 1, limitAction: "disconnect", sessionsRefused: false });
    const now = Date.now();
    await insertSession(user.id, { start: now - 2 * HOUR, end: now - MINUTE });
    const after = await call("GET", `/v1/usage${window()}`, { ip: user.ip, token: user.accessToken });
    expect(after.json.thisMonth).toMatchObject({ limitAction: "disconnect", sessionsRefused: true });
  });
});

/** Each test's own UTC month, far from the real clock: connects and ticks run at controlled times. */
let monthIndex = 0;
const nextTestMonth = () => Date.UTC(2034, 2 * monthIndex++, 1);

/** The domain's connect at `time`; the AppError's code when it is refused. */
async function connectAt(time: number, userId: string) {
  const ctx = await at(time, userId);
  try {
    return (await connectSession(ctx, userId)).session.id;
  } catch (error) {
    return (error as { code?: string }).code ?? "thrown";
  }
}

const disconnectAt = async (time: number, userId: string, sessionId: string) => disconnect(await at(time, userId), userId, sessionId);

describe("disconnect at the limit", () => {
  it("disconnects the running session once, through the normal disconnect, emailed and audited; connect refused after, allowed again when the limit is raised", async () => {
    const month = nextTestMonth();
    const user = await entitledUser();
    expect((await patch(user, { usageLimitHours: 2, usageLimitAction: "disconnect" })).status).toBe(200);
    const sessionId = await connectAt(month + 10 * MINUTE, user.id);
    expect((await liveSessionsOf(user.id)).map((s) => s.id)).toEqual([sessionId]);

    await tick(month + 2 * HOUR + 5 * MINUTE); // 1 h 55 min: under the limit
    expect((await liveSessionsOf(user.id)).map((s) => s.id)).toEqual([sessionId]);
    expect(mailsTo(user, DISCONNECTED)).toHaveLength(0);

    const limitAt = month + 2 * HOUR + 10 * MINUTE;
    await tick(limitAt);
    await tick(limitAt + MINUTE); // a later tick stops nothing twice
    const ended = await call("GET", `/v1/sessions/${sessionId}`, { ip: user.ip, token: user.accessToken });
    expect(ended.json).toMatchObject({ state: "ended", endedAt: new Date(limitAt).toISOString() });
    expect(await containersOf(user.id)).toEqual([]);
    // The normal disconnect: the workspace stays, the command log records it, the job is the actor.
    expect((await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken })).json).toMatchObject({ state: "hot" });
    expect((await commandsOf(user.id)).map((c) => [c.command, c.session_id])).toContainEqual(["disconnect", sessionId]);
    const monthName = new Date(month).toISOString().slice(0, 7);
    expect(await auditOf(user.id, "usage_limit_disconnect")).toEqual([{ sessionId, month: monthName, limitHours: 2, usedHours: 2, actor: "system:usage-limit" }]);
    const [mail, ...more] = mailsTo(user, DISCONNECTED);
    expect(more).toEqual([]);
    expect(mail!.headers?.["X-Ozekai-Email-Kind"]).toBe("billing");
    expect(mail!.text).toContain(`in ${monthName} (UTC) reached the 2-hour monthly limit`);
    expect(mail!.text).toContain("your workspace is kept");
    expect(mailsTo(user, REACHED).map((m) => m.text)).toEqual([expect.stringContaining("a running session is disconnected now")]);

    // No loop: connecting again is refused while over the limit, and nothing is started.
    expect(await connectAt(limitAt + 2 * MINUTE, user.id)).toBe("usage_limit_reached");
    expect(await liveSessionsOf(user.id)).toEqual([]);

    expect((await patch(user, { usageLimitHours: 3 })).status).toBe(200);
    const again = await connectAt(limitAt + 3 * MINUTE, user.id);
    expect(again).not.toBe(sessionId);
    expect((await liveSessionsOf(user.id)).map((s) => s.id)).toEqual([again]);
    await disconnectAt(limitAt + 4 * MINUTE, user.id, again);
  });

  it("refused while over the limit; allowed with notify, with the limit removed, and in the next month", async () => {
    const month = nextTestMonth();
    const user = await entitledUser();
    expect((await patch(user, { usageLimitHours: 1, usageLimitAction: "disconnect" })).status).toBe(200);
    await insertSession(user.id, { start: month, end: month + 90 * MINUTE });
    const over = month + 2 * HOUR;
    expect(await connectAt(over, user.id)).toBe("usage_limit_reached");

    const nextMonth = Date.UTC(new Date(month).getUTCFullYear(), new Date(month).getUTCMonth() + 1, 1);
    const fresh = await connectAt(nextMonth + MINUTE, user.id);
    expect(fresh).toMatch(/^[0-9a-z-]{8,}$/);
    await disconnectAt(nextMonth + 2 * MINUTE, user.id, fresh);
    expect(await connectAt(over + MINUTE, user.id)).toBe("usage_limit_reached");

    expect((await patch(user, { usageLimitAction: "notify" })).status).toBe(200);
    const notified = await connectAt(over + 2 * MINUTE, user.id);
    expect(notified).not.toBe("usage_limit_reached");
    await disconnectAt(over + 3 * MINUTE, user.id, notified);

    expect((await patch(user, { usageLimitAction: "disconnect" })).status).toBe(200);
    expect(await connectAt(over + 4 * MINUTE, user.id)).toBe("usage_limit_reached");
    expect((await patch(user, { usageLimitHours: null })).status).toBe(200);
    const unlimited = await connectAt(over + 5 * MINUTE, user.id);
    expect(unlimited).not.toBe("usage_limit_reached");
    await disconnectAt(over + 6 * MINUTE, user.id, unlimited);
  });

  it.skipIf(EARLY_IN_MONTH)(
    "over HTTP: POST /v1/sessions answers 403 usage_limit_reached saying when and how it starts again",
    async () => {
      const user = await entitledUser();
      expect((await patch(user, { usageLimitHours: 1, usageLimitAction: "disconnect" })).status).toBe(200);
      const now = Date.now();
      await insertSession(user.id, { start: now - 90 * MINUTE, end: now - MINUTE });
      const refused = await connect(user);
      expectProblem(refused, 403, "usage_limit_reached");
      expect(refused.json.detail).toContain("1-hour monthly limit");
      expect(refused.json.detail).toContain("PATCH /v1/account");
      expect(await liveSessionsOf(user.id)).toEqual([]);
      expect((await account(user)).canStartSessions).toBe(true); // the plan is fine: the limit is the user's own
    },
  );

  it("with notify (the default) the session keeps running past the limit, with a notice only", async () => {
    const month = nextTestMonth();
    const user = await entitledUser();
    expect((await patch(user, { usageLimitHours: 1 })).status).toBe(200);
    const sessionId = await connectAt(month + MINUTE, user.id);
    await tick(month + 2 * HOUR);
    expect((await liveSessionsOf(user.id)).map((s) => s.id)).toEqual([sessionId]);
    expect(mailsTo(user, REACHED).map((m) => m.text)).toEqual([expect.stringContaining("sessions are not disconnected")]);
    expect(mailsTo(user, DISCONNECTED)).toHaveLength(0);
    expect(await auditOf(user.id, "usage_limit_disconnect")).toEqual([]);
    await disconnectAt(month + 2 * HOUR + MINUTE, user.id, sessionId);
  });
});
