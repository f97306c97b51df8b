/**
 * Privacy requests (policy §7): made by the user, answered by an admin within 30 days, every
 * change audited and emailed; the daily reminder to the admins; objections; self-service
 * correction and deletion completing their own requests.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, outbox, runCron, type TestUser, tokenFromEmail } from "./harness";

const DAY_MS = 86_400_000;
const REMINDER_CRON = "0 8 * * *";

async function createAdmin(): Promise<TestUser> {
  const admin = await createUser();
  await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
}

const as = (user: TestUser) => ({ ip: user.ip, token: user.accessToken });
const openRequest = (user: TestUser, body: unknown) => call("POST", "/v1/privacy/requests", { ...as(user), body });
const decide = (admin: TestUser, id: string, body: unknown) => call("PATCH", `/v1/admin/privacy-requests/${id}`, { ...as(admin), body });
const queue = (admin: TestUser) => call("GET", "/v1/admin/privacy-requests", as(admin));
const mailsTo = (to: string, subject: RegExp) => outbox.filter((m) => m.to === to && subject.test(m.subject));

const requestEvents = async (userId: string) =>
  (
    await env.DB.prepare("select type, actor, detail from account_events where user_id = ? and type like 'privacy_request_%' order by id")
      .bind(userId)
      .all<{ type: string; actor: string; detail: string }>()
  ).results.map((row) => ({ ...row, detail: JSON.parse(row.detail) }));

describe("a user makes a privacy request", () => {
  it("is open, due 30 days after it was made, audited, emailed, and listed newest first", async () => {
    const user = await createUser();
    const res = await openRequest(user, { kind: "access", message: "Send me what you hold about me." });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ kind: "access", state: "open", reason: null, message: "Send me what you hold about me." });
    expect(Date.parse(res.json.dueAt) - Date.parse(res.json.createdAt)).toBe(30 * DAY_MS);
    expect(await requestEvents(user.id)).toEqual([{ type: "privacy_request_opened", actor: `user:${user.id}`, detail: { requestId: res.json.id, kind: "access" } }]);
    expect(mailsTo(user.email, /We received your privacy request/)).toHaveLength(1);
    expect(mailsTo(user.email, /We received/)[0]!.text).toContain(res.json.dueAt.slice(0, 10));

    const second = await openRequest(user, { kind: "other" });
    expect(second.status, second.text).toBe(201);
    const list = await call("GET", "/v1/privacy/requests", as(user));
    expect(list.status).toBe(200);
    expect(list.json.requests.map((r: { id: string }) => r.id)).toEqual([second.json.id, res.json.id]);
    const one = await call("GET", `/v1/privacy/requests/${res.json.id}`, as(user));
    expect(one.status).toBe(200);
    expect(one.json).toEqual(res.json);
  });

  it("another user's request is 404, as one that does not exist", async () => {
    const owner = await createUser();
    const other = await createUser();
    const made = await openRequest(owner, { kind: "deletion" });
    expectProblem(await call("GET", `/v1/privacy/requests/${made.json.id}`, as(other)), 404, "not_found");
    expectProblem(await call("GET", "/v1/privacy/requests/no-such-id", as(other)), 404, "not_found");
    expect((await call("GET", "/v1/privacy/requests", as(other))).json.requests).toEqual([]);
  });

  it("bad input is a 400 problem", async () => {
    const user = await createUser();
    expectProblem(await openRequest(user, { kind: "marketing" }), 400, "validation_failed");
    expectProblem(await openRequest(user, { kind: "other", message: "x".repeat(2001) }), 400, "validation_failed");
    expectProblem(await openRequest(user, { kind: "other", extra: true }), 400, "validation_failed");
    expectProblem(await call("POST", "/v1/privacy/requests", { ip: user.ip, body: { kind: "access" } }), 401, "unauthorized");
  });
});

describe("an admin answers privacy requests", () => {
  it("in progress then completed: each change audited with the admin, and the user emailed", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const { id } = (await openRequest(user, { kind: "portability" })).json;

    const started = await decide(admin, id, { state: "in_progress" });
    expect(started.status, started.text).toBe(200);
    expect(started.json).toMatchObject({ id, state: "in_progress", userId: user.id, overdue: false });
    expect(mailsTo(user.email, /Your privacy request is in progress/)).toHaveLength(1);

    const done = await decide(admin, id, { state: "completed" });
    expect(done.json).toMatchObject({ state: "completed" });
    expect(mailsTo(user.email, /Your privacy request is completed/)).toHaveLength(1);
    expect((await call("GET", `/v1/privacy/requests/${id}`, as(user))).json.state).toBe("completed");
    expect((await requestEvents(user.id)).slice(1)).toEqual([
      { type: "privacy_request_changed", actor: `admin:${admin.id}`, detail: { requestId: id, kind: "portability", from: "open", to: "in_progress" } },
      { type: "privacy_request_changed", actor: `admin:${admin.id}`, detail: { requestId: id, kind: "portability", from: "in_progress", to: "completed" } },
    ]);
  });

  it("a rejection needs a reason, which the user is told; completed and rejected are final (409)", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const { id } = (await openRequest(user, { kind: "other" })).json;
    expectProblem(await decide(admin, id, { state: "rejected" }), 400, "validation_failed");
    expectProblem(await decide(admin, id, { state: "rejected", reason: "  " }), 400, "validation_failed");
    expectProblem(await decide(admin, id, { state: "open" }), 400, "validation_failed");

    const rejected = await decide(admin, id, { state: "rejected", reason: "We hold no such data." });
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.json).toMatchObject({ state: "rejected", reason: "We hold no such data." });
    expect(mailsTo(user.email, /Your privacy request is rejected/)[0]!.text).toContain("We hold no such data.");

    expectProblem(await decide(admin, id, { state: "completed" }), 409, "request_closed");
    expectProblem(await decide(admin, id, { state: "in_progress" }), 409, "request_closed");
    expect(await requestEvents(user.id)).toHaveLength(2);
  });

  it("a non-admin is refused with 403 before any lookup, on the queue and on a request", async () => {
    const user = await createUser();
    const { id } = (await openRequest(user, { kind: "access" })).json;
    expectProblem(await queue(user), 403, "forbidden");
    expectProblem(await decide(user, id, { state: "completed" }), 403, "forbidden");
    expectProblem(await decide(user, "no-such-id", { state: "completed" }), 403, "forbidden");
    expect((await call("GET", `/v1/privacy/requests/${id}`, as(user))).json.state).toBe("open");
  });

  it("an unknown request is 404 to an admin", async () => {
    const admin = await createAdmin();
    expectProblem(await decide(admin, "no-such-id", { state: "completed" }), 404, "not_found");
  });

  it("the queue holds open and in-progress requests, overdue and soonest due first", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await openRequest(user, { kind: "other" })).json.id);
    const [late, soon, later, closed] = ids as [string, string, string, string];
    const now = Date.now();
    const setDue = (id: string, at: number) => env.DB.prepare("update privacy_requests set due_at = ? where id = ?").bind(at, id).run();
    await setDue(late, now - DAY_MS);
    await setDue(soon, now + 2 * DAY_MS);
    await setDue(later, now + 20 * DAY_MS);
    await decide(admin, soon, { state: "in_progress" });
    await decide(admin, closed, { state: "completed" });

    const res = await queue(admin);
    expect(res.status, res.text).toBe(200);
    const mine = res.json.requests.filter((r: { userId: string }) => r.userId === user.id);
    expect(mine.map((r: { id: string; overdue: boolean }) => [r.id, r.overdue])).toEqual([
      [late, true],
      [soon, false],
      [later, false],
    ]);
  });
});

describe("the daily reminder to the admins", () => {
  it("names a request once when due within 7 days and once more when overdue, to every live verified admin", async () => {
    const admin = await createAdmin();
    const secondAdmin = await createAdmin();
    const user = await createUser();
    const { id, dueAt } = (await openRequest(user, { kind: "access" })).json;
    const due = Date.parse(dueAt);
    const remindersTo = (to: string) => mailsTo(to, /Privacy requests are due/).filter((m) => m.text.includes(id));

    await runCron(REMINDER_CRON, due - 10 * DAY_MS);
    expect(remindersTo(admin.email)).toHaveLength(0);

    await runCron(REMINDER_CRON, due - 6 * DAY_MS);
    expect(remindersTo(admin.email)).toHaveLength(1);
    expect(remindersTo(secondAdmin.email)).toHaveLength(1);
    expect(remindersTo(admin.email)[0]!.text).toContain(`${id} (access): due ${dueAt.slice(0, 10)}`);
    expect(remindersTo(user.email)).toHaveLength(0);

    await runCron(REMINDER_CRON, due - 5 * DAY_MS);
    expect(remindersTo(admin.email)).toHaveLength(1);

    await runCron(REMINDER_CRON, due + DAY_MS);
    expect(remindersTo(admin.email)).toHaveLength(2);
    expect(remindersTo(admin.email)[1]!.text).toContain(`${id} (access): OVERDUE since`);

    await runCron(REMINDER_CRON, due + 2 * DAY_MS);
    await Promise.all([runCron(REMINDER_CRON, due + 3 * DAY_MS), runCron(REMINDER_CRON, due + 3 * DAY_MS)]);
    expect(remindersTo(admin.email)).toHaveLength(2);
    expect(remindersTo(secondAdmin.email)).toHaveLength(2);
  });

  it("says nothing of answered requests, and never writes to a demoted admin", async () => {
    const admin = await createAdmin();
    const former = await createAdmin();
    await env.DB.prepare("update users set role = 'user' where id = ?").bind(former.id).run();
    const user = await createUser();
    const answered = (await openRequest(user, { kind: "other" })).json;
    const pending = (await openRequest(user, { kind: "other" })).json;
    await decide(admin, answered.id, { state: "completed" });

    await runCron(REMINDER_CRON, Date.parse(pending.dueAt) + DAY_MS);
    const reminder = mailsTo(admin.email, /Privacy requests are due/).find((m) => m.text.includes(pending.id));
    expect(reminder).toBeDefined();
    expect(reminder!.text).not.toContain(answered.id);
    expect(mailsTo(former.email, /Privacy requests are due/)).toHaveLength(0);
  });
});

describe("PUT /v1/privacy/objections", () => {
  const object = (user: TestUser, body: unknown) => call("PUT", "/v1/privacy/objections", { ...as(user), body });
  const account = async (user: TestUser) => (await call("GET", "/v1/account", as(user))).json;

  it("objecting to aggregate analysis is recorded at once, shown in the account view, audited, and can be withdrawn", async () => {
    const user = await createUser();
    expect((await account(user)).privacy).toEqual({ aggregateAnalysisObjectedAt: null });

    const on = await object(user, { aggregateAnalysis: true });
    expect(on.status, on.text).toBe(200);
    expect(on.json.aggregateAnalysisObjectedAt).toEqual(expect.any(String));
    expect(on.json.changes).toEqual(["Your usage is excluded from aggregate analysis from now on."]);
    expect(on.json.request).toBeNull();
    expect((await account(user)).privacy).toEqual({ aggregateAnalysisObjectedAt: on.json.aggregateAnalysisObjectedAt });

    const again = await object(user, { aggregateAnalysis: true });
    expect(again.json).toMatchObject({ aggregateAnalysisObjectedAt: on.json.aggregateAnalysisObjectedAt, changes: [] });

    const off = await object(user, { aggregateAnalysis: false });
    expect(off.json).toMatchObject({ aggregateAnalysisObjectedAt: null, changes: ["Your usage is included in aggregate, anonymized analysis again."] });
    expect((await account(user)).privacy).toEqual({ aggregateAnalysisObjectedAt: null });
    const events = await env.DB.prepare("select detail from account_events where user_id = ? and type = 'analysis_objection_changed' order by id").bind(user.id).all<{ detail: string }>();
    expect(events.results.map((r) => JSON.parse(r.detail))).toEqual([{ objected: true }, { objected: false }]);
  });

  it("any other objection opens a tracked request of kind objection", async () => {
    const user = await createUser();
    const res = await object(user, { aggregateAnalysis: false, other: "I object to my IP address being kept 90 days." });
    expect(res.status, res.text).toBe(200);
    expect(res.json.request).toMatchObject({ kind: "objection", state: "open", message: "I object to my IP address being kept 90 days." });
    expect(res.json.changes).toHaveLength(1);
    expect(res.json.changes[0]).toContain(res.json.request.id);
    expect((await call("GET", "/v1/privacy/requests", as(user))).json.requests.map((r: { id: string }) => r.id)).toEqual([res.json.request.id]);
    expectProblem(await object(user, { other: "x" }), 400, "validation_failed");
  });
});

describe("self-service answers complete their own requests", () => {
  it("a confirmed email change completes an open correction request, told at the new address", async () => {
    const user = await createUser();
    const correction = (await openRequest(user, { kind: "correction", message: "My address changed." })).json;
    const access = (await openRequest(user, { kind: "access" })).json;
    const next = `new-${user.id}@example.com`;
    const patched = await call("PATCH", "/v1/account", { ...as(user), body: { email: next, currentPassword: user.password } });
    expect(patched.status, patched.text).toBe(200);
    const verified = await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: tokenFromEmail(next, /Confirm your new email address/) } });
    expect(verified.status, verified.text).toBe(200);

    expect((await call("GET", `/v1/privacy/requests/${correction.id}`, as(user))).json.state).toBe("completed");
    expect((await call("GET", `/v1/privacy/requests/${access.id}`, as(user))).json.state).toBe("open");
    expect(mailsTo(next, /Your privacy request is completed/)).toHaveLength(1);
  });

  it("a whole export completes open access and portability requests, and no other kind", async () => {
    const user = await createUser();
    const access = (await openRequest(user, { kind: "access", message: "What do you hold about me?" })).json;
    const portability = (await openRequest(user, { kind: "portability", message: "A copy, please." })).json;
    const other = (await openRequest(user, { kind: "other", message: "Something else." })).json;
    const res = await call("GET", "/v1/privacy/export", as(user));
    expect(res.status, res.text).toBe(200);
    expect(JSON.parse(res.text).schemaVersion).toBe(1);
    const states = await env.DB.prepare("select id, state from privacy_requests where user_id = ?").bind(user.id).all<{ id: string; state: string }>();
    const byId = Object.fromEntries(states.results.map((r) => [r.id, r.state]));
    expect(byId).toEqual({ [access.id]: "completed", [portability.id]: "completed", [other.id]: "open" });
    expect(mailsTo(user.email, /Your privacy request is completed/)).toHaveLength(2);
  });

  it("deleting the account completes an open deletion request and erases every request's message", async () => {
    const user = await createUser();
    const deletion = (await openRequest(user, { kind: "deletion", message: "Please delete me." })).json;
    const other = (await openRequest(user, { kind: "other", message: "Something personal." })).json;
    const res = await call("DELETE", "/v1/account", { ...as(user), body: { password: user.password } });
    expect(res.status, res.text).toBe(202);

    const rows = await env.DB.prepare("select id, state, message from privacy_requests where user_id = ? order by created_at, id").bind(user.id).all<{ id: string; state: string; message: string | null }>();
    const byId = Object.fromEntries(rows.results.map((r) => [r.id, r]));
    expect(byId[deletion.id]).toMatchObject({ state: "completed", message: null });
    expect(byId[other.id]).toMatchObject({ state: "open", message: null });
    expect(mailsTo(user.email, /Your privacy request is completed/)).toHaveLength(1);
  });
});
