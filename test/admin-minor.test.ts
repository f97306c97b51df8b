/**
 * Policy §10: an admin deletes the account of someone under 18 (POST /v1/admin/users/{userId}/minor)
 * through the path self-deletion takes, without the user's password: the same rows are left, every
 * sign-in ends, the Stripe work is queued, the admin and the reason are audited, the address told.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allRows, billingRow } from "./billing-harness";
import { accessLogLines, call, createUser, expectProblem, outbox, type TestUser } from "./harness";

const db = env.DB;

async function createAdmin(): Promise<TestUser> {
  const admin = await createUser();
  await db.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
}

/** A user with a Stripe customer (a checkout through the API, at the fake Stripe). */
async function customer(): Promise<TestUser & { customerId: string }> {
  const user = await createUser();
  const checkout = await call("POST", "/v1/billing/checkout", { ip: user.ip, token: user.accessToken, body: { planId: "cpu-small" } });
  expect(checkout.status, checkout.text).toBe(200);
  return { ...user, customerId: (await billingRow(user.id))!.stripe_customer_id as string };
}

const markMinor = (admin: TestUser, userId: string, body: unknown) => call("POST", `/v1/admin/users/${userId}/minor`, { ip: admin.ip, token: admin.accessToken, body });
const deletedAt = async (userId: string) => (await db.prepare("select deleted_at from users where id = ?").bind(userId).first<{ deleted_at: number | null }>())!.deleted_at;
const events = async (userId: string) =>
  (await db.prepare("select type, actor, detail from account_events where user_id = ? order by id").bind(userId).all<{ type: string; actor: string; detail: string | null }>()).results;

/**
 * The user's rows in every table, as which fields hold a value: ids, hashes and times differ between
 * two users, what was erased does not. The deletion time itself is named, the user's ids replaced.
 */
async function leftOf(user: { id: string; customerId: string }) {
  const at = await deletedAt(user.id);
  const rows = await allRows();
  const mine = (value: unknown): value is string => typeof value === "string" && (value.includes(user.id) || value.includes(user.customerId));
  const shape = (value: unknown) => (value === null ? null : value === at ? "deleted_at" : mine(value) ? value.replaceAll(user.id, "U").replaceAll(user.customerId, "C") : typeof value);
  return Object.fromEntries(
    Object.entries(rows)
      // Requests differ by route (access logs are checked for their IPs), audit rows by type.
      .filter(([table]) => table !== "access_log_objects" && table !== "account_events")
      .map(([table, list]) => [
        table,
        list
          .filter((row) => Object.values(row).some((v) => v === user.id || v === user.customerId))
          .map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, shape(v)]))),
      ]),
  );
}

describe("an admin deletes a minor's account", () => {
  it("leaves exactly what self-deletion leaves: the same rows, the same fields erased, the Stripe work queued", async () => {
    const admin = await createAdmin();
    const self = await customer();
    const minor = await customer();

    const deleted = await call("DELETE", "/v1/account", { ip: self.ip, token: self.accessToken, body: { password: self.password } });
    expect(deleted.status, deleted.text).toBe(202);
    const res = await markMinor(admin, minor.id, { reason: "Said in a support ticket they are 15" });
    expect(res.status, res.text).toBe(202);
    expect(res.json).toEqual({ status: "deleted" });

    const left = await leftOf(minor);
    expect(left).toEqual(await leftOf(self));
    expect(left.users).toEqual([expect.objectContaining({ id: "U", username: "deleted-U", email: null, password_hash: null, deleted_at: "deleted_at" })]);
    expect(left.deletion_outbox).toEqual([expect.objectContaining({ user_id: "U", stripe_customer_id: "C" })]);
    expect(left.login_sessions?.length).toBeGreaterThan(0);

    const rows = await allRows();
    expect(JSON.stringify(rows)).not.toContain(minor.email);
    expect(JSON.stringify(rows)).not.toContain(minor.username);
    const lines = (await accessLogLines()).filter((r) => r.user_id === minor.id);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((r) => r.ip === null && r.user_agent === null)).toBe(true);
  });

  it("ends every sign-in, audits the admin and the reason, and tells the address before it is erased", async () => {
    const admin = await createAdmin();
    const minor = await createUser();
    const mails = outbox.length;
    expect((await markMinor(admin, minor.id, { reason: "Parent wrote to privacy@" })).status).toBe(202);

    expectProblem(await call("GET", "/v1/account", { ip: minor.ip, token: minor.accessToken }), 401, "unauthorized");
    expectProblem(await call("POST", "/v1/auth/refresh", { ip: minor.ip, body: { refreshToken: minor.refreshToken } }), 401, "unauthorized");
    const audit = (await events(minor.id)).filter((e) => e.type.startsWith("account_deleted"));
    expect(audit).toEqual([{ type: "account_deleted_minor", actor: `admin:${admin.id}`, detail: JSON.stringify({ reason: "Parent wrote to privacy@" }) }]);
    const sent = outbox.slice(mails).filter((m) => m.to === minor.email);
    expect(sent.map((m) => m.subject)).toEqual(["Your account was closed"]);
    expect(sent[0]!.text).toContain("under 18");
    expect(sent[0]!.text).toContain("§10");
  });

  it("a second call, an unknown id: 404; the account is deleted once", async () => {
    const admin = await createAdmin();
    const minor = await createUser();
    expect((await markMinor(admin, minor.id, { reason: "r" })).status).toBe(202);
    expectProblem(await markMinor(admin, minor.id, { reason: "r" }), 404, "not_found");
    expectProblem(await markMinor(admin, "usr_nosuchuser", { reason: "r" }), 404, "not_found");
    expect((await events(minor.id)).filter((e) => e.type === "account_deleted_minor")).toHaveLength(1);
  });

  it("a non-admin gets 403, for a real account and an unknown id alike, and nothing is deleted", async () => {
    const user = await createUser();
    const target = await createUser();
    expectProblem(await markMinor(user, target.id, { reason: "r" }), 403, "forbidden");
    expectProblem(await markMinor(user, "usr_nosuchuser", { reason: "r" }), 403, "forbidden");
    expectProblem(await call("POST", `/v1/admin/users/${target.id}/minor`, { ip: user.ip, body: { reason: "r" } }), 401, "unauthorized");
    expect(await deletedAt(target.id)).toBeNull();
  });

  it("a missing, empty or too long reason is 400 and deletes nothing", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    for (const body of [{}, { reason: "" }, { reason: "   " }, { reason: "x".repeat(501) }, { reason: 5 }, { reason: "r", extra: true }]) {
      expectProblem(await markMinor(admin, target.id, body), 400, "validation_failed");
    }
    expect(await deletedAt(target.id)).toBeNull();
  });
});
