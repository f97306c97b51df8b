/**
 * Admin-granted plans, audited: PUT/GET /v1/admin/users/{userId}/plan.
 * The first admin is made the way the README tells an operator to: SQL on the users table.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setSubscription } from "./billing-harness";
import { call, createUser, expectProblem, type TestUser } from "./harness";

async function createAdmin(): Promise<TestUser> {
  const admin = await createUser();
  await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
}

const putPlan = (admin: TestUser, userId: string, body: unknown) => call("PUT", `/v1/admin/users/${userId}/plan`, { ip: admin.ip, token: admin.accessToken, body });
const getPlan = (admin: TestUser, userId: string) => call("GET", `/v1/admin/users/${userId}/plan`, { ip: admin.ip, token: admin.accessToken });
const account = async (user: TestUser) => (await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json;

const planEvents = async (userId: string) =>
  (
    await env.DB.prepare("select type, actor, detail from account_events where user_id = ? and type like 'plan_%' order by id")
      .bind(userId)
      .all<{ type: string; actor: string; detail: string }>()
  ).results.map((row) => ({ ...row, detail: JSON.parse(row.detail) }));

const planIdOf = async (userId: string) => (await env.DB.prepare("select plan_id from users where id = ?").bind(userId).first<{ plan_id: string | null }>())!.plan_id;

describe("an admin grants and revokes a plan", () => {
  it("the grant entitles the account to start sessions, with an audit row naming the admin", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    expect(await account(user)).toMatchObject({ planId: null, canStartSessions: false, restrictions: ["no_plan"] });

    const res = await putPlan(admin, user.id, { planId: "cpu-small" });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ userId: user.id, planId: "cpu-small" });
    expect(await account(user)).toMatchObject({ planId: "cpu-small", canStartSessions: true, restrictions: [] });
    expect(await planEvents(user.id)).toEqual([{ type: "plan_granted", actor: `admin:${admin.id}`, detail: { planId: "cpu-small", previous: null } }]);

    const read = await getPlan(admin, user.id);
    expect(read.status, read.text).toBe(200);
    expect(read.json).toEqual({ userId: user.id, planId: "cpu-small" });
  });

  it("granting the same plan again changes nothing and writes no second audit row", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    for (let i = 0; i < 3; i++) expect((await putPlan(admin, user.id, { planId: "h100-1" })).status).toBe(200);
    expect(await planEvents(user.id)).toHaveLength(1);
  });

  it("concurrent identical grants apply once: one audit row", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => putPlan(admin, user.id, { planId: "cpu-small" })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await planEvents(user.id)).toHaveLength(1);
    expect(await planIdOf(user.id)).toBe("cpu-small");
  });

  it("a change of plan records the previous one; null revokes, and the account falls back to its subscription", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    await setSubscription(user.id, { status: "canceled" });
    await putPlan(admin, user.id, { planId: "cpu-small" });
    expect(await account(user)).toMatchObject({ canStartSessions: true });

    expect((await putPlan(admin, user.id, { planId: "h100-1" })).json).toEqual({ userId: user.id, planId: "h100-1" });
    const revoked = await putPlan(admin, user.id, { planId: null });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.json).toEqual({ userId: user.id, planId: null });
    expect(await account(user)).toMatchObject({ canStartSessions: false, restrictions: ["subscription_canceled"] });
    expect((await putPlan(admin, user.id, { planId: null })).status).toBe(200); // revoking nothing: no row

    expect(await planEvents(user.id)).toEqual([
      { type: "plan_granted", actor: `admin:${admin.id}`, detail: { planId: "cpu-small", previous: null } },
      { type: "plan_granted", actor: `admin:${admin.id}`, detail: { planId: "h100-1", previous: "cpu-small" } },
      { type: "plan_revoked", actor: `admin:${admin.id}`, detail: { planId: null, previous: "h100-1" } },
    ]);
  });
});

describe("who may grant", () => {
  it("a signed-in user who is not an admin gets 403 forbidden, for any account, existing or not, and nothing changes", async () => {
    const user = await createUser();
    const victim = await createUser();
    for (const target of [user.id, victim.id, crypto.randomUUID()]) {
      expectProblem(await putPlan(user, target, { planId: "h100-8" }), 403, "forbidden");
      expectProblem(await getPlan(user, target), 403, "forbidden");
    }
    expect(await planIdOf(user.id)).toBeNull();
    expect(await planIdOf(victim.id)).toBeNull();
    expect(await planEvents(user.id)).toEqual([]);
  });

  it("an admin demoted in D1 is refused at once (the role is read at every request)", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    await env.DB.prepare("update users set role = 'user' where id = ?").bind(admin.id).run();
    expectProblem(await putPlan(admin, user.id, { planId: "cpu-small" }), 403, "forbidden");
    expect(await planIdOf(user.id)).toBeNull();
  });

  it("no route makes an admin: PATCH /v1/account refuses a role", async () => {
    const user = await createUser();
    expectProblem(await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { role: "admin" } }), 400, "validation_failed");
    expect((await account(user)).role).toBe("user");
    const doc = (await call("GET", "/openapi.json")).json;
    expect(JSON.stringify(doc.paths)).not.toMatch(/\/role/);
  });

  it("without a token: 401 before anything else", async () => {
    const user = await createUser();
    expectProblem(await call("PUT", `/v1/admin/users/${user.id}/plan`, { body: { planId: "cpu-small" } }), 401, "unauthorized");
    expect(await planIdOf(user.id)).toBeNull();
  });
});

describe("bad targets and bodies", () => {
  it("an unknown or deleted account: 404 not_found, nothing written", async () => {
    const admin = await createAdmin();
    expectProblem(await putPlan(admin, crypto.randomUUID(), { planId: "cpu-small" }), 404, "not_found");
    expectProblem(await getPlan(admin, crypto.randomUUID()), 404, "not_found");

    const gone = await createUser();
    expect((await call("DELETE", "/v1/account", { ip: gone.ip, token: gone.accessToken, body: { password: gone.password } })).status).toBe(202);
    expectProblem(await putPlan(admin, gone.id, { planId: "cpu-small" }), 404, "not_found");
    expect(await planIdOf(gone.id)).toBeNull();
    expect(await planEvents(gone.id)).toEqual([]);
  });

  it.each([
    ["an unknown plan", { planId: "a100-64" }],
    ["a plan id of the wrong type", { planId: 1 }],
    ["no planId", {}],
    ["an extra field", { planId: "cpu-small", role: "admin" }],
    ["not an object", ["cpu-small"]],
  ])("%s: 400 validation_failed, nothing written", async (_label, body) => {
    const admin = await createAdmin();
    const user = await createUser();
    expectProblem(await putPlan(admin, user.id, body), 400, "validation_failed");
    expect(await planIdOf(user.id)).toBeNull();
    expect(await planEvents(user.id)).toEqual([]);
  });

  it("no body: 400 problem; a body that is not JSON: 400 malformed_json", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const empty = await call("PUT", `/v1/admin/users/${user.id}/plan`, { ip: admin.ip, token: admin.accessToken });
    expect(empty.status, empty.text).toBeGreaterThanOrEqual(400);
    expect(empty.status).toBeLessThan(500);
    expect(empty.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    const malformed = await call("PUT", `/v1/admin/users/${user.id}/plan`, { ip: admin.ip, token: admin.accessToken, rawBody: "{planId:", headers: { "Content-Type": "application/json" } });
    expectProblem(malformed, 400, "malformed_json");
    expect(await planIdOf(user.id)).toBeNull();
  });

  it("an over-long user id: 400 validation_failed", async () => {
    const admin = await createAdmin();
    expectProblem(await putPlan(admin, "x".repeat(65), { planId: "cpu-small" }), 400, "validation_failed");
  });
});
