/**
 * Policy versions (policy §11, §4): GET /v1/policy and its text at /privacy, admin publishing,
 * the notice emails of a material change (each verified, live account once, in bounded batches
 * across overlapping cron ticks), and acceptance shown in the account view.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { call, createUser, expectProblem, outbox, POLICY_VERSION, runCron, type TestUser } from "./harness";

const MINUTE = "* * * * *";

async function createAdmin(): Promise<TestUser> {
  const admin = await createUser();
  await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
}

const publish = (admin: TestUser, body: unknown) => call("POST", "/v1/admin/policy-versions", { ip: admin.ip, token: admin.accessToken, body });
const version = (version: string, material: boolean) => ({ version, material, summary: `Changes of ${version}.`, text: `Privacy Policy\nLast updated: ${version}\n` });
const noticesTo = (user: TestUser) => outbox.filter((m) => m.to === user.email && m.subject === "Our privacy policy changed");

// Publishing changes the current version for every later test: each starts from the built-in one.
beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("delete from policy_notices"), env.DB.prepare("delete from policy_versions")]);
});

describe("GET /v1/policy and /privacy", () => {
  it("names the built-in version and serves its text at the URL it gives", async () => {
    const res = await call("GET", "/v1/policy");
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ version: POLICY_VERSION, material: false, url: "/privacy" });
    const text = await call("GET", res.json.url);
    expect(text.status).toBe(200);
    expect(text.headers.get("Content-Type")).toMatch(/^text\/plain/);
    expect(text.text).toMatch(/^Privacy Policy\nLast updated: April 3, 2026/);
  });

  it("a browser asking for HTML at /privacy gets the website's privacy page (which shows the text); anything else the text", async () => {
    const page = await call("GET", "/privacy", { headers: { Accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(page.text).toContain('<div id="app">');
    for (const accept of ["*/*", "text/plain"]) {
      const text = await call("GET", "/privacy", { headers: { Accept: accept } });
      expect(text.headers.get("Content-Type"), accept).toMatch(/^text\/plain/);
    }
  });

  it("after a publish, names the new version and serves the new text", async () => {
    const admin = await createAdmin();
    expect((await publish(admin, version("2026-06-01", false))).status).toBe(201);
    expect((await call("GET", "/v1/policy")).json).toMatchObject({ version: "2026-06-01", summary: "Changes of 2026-06-01." });
    expect((await call("GET", "/privacy")).text).toBe("Privacy Policy\nLast updated: 2026-06-01\n");
  });
});

describe("admins publish versions", () => {
  it("lists what was published with the built-in version, audited", async () => {
    const admin = await createAdmin();
    const res = await publish(admin, version("2026-06-01", false));
    expect(res.json).toMatchObject({ version: "2026-06-01", material: false });
    const list = await call("GET", "/v1/admin/policy-versions", { ip: admin.ip, token: admin.accessToken });
    expect(list.status).toBe(200);
    expect(list.json.versions.map((v: { version: string }) => v.version)).toEqual(["2026-06-01", POLICY_VERSION]);
    const audit = await env.DB.prepare("select type, actor from account_events where user_id = ? and type = 'policy_published'").bind(admin.id).all();
    expect(audit.results).toEqual([{ type: "policy_published", actor: `admin:${admin.id}` }]);
  });

  it("publishing the same version twice is a conflict, and so is an older one", async () => {
    const admin = await createAdmin();
    expect((await publish(admin, version("2026-06-01", true))).status).toBe(201);
    expectProblem(await publish(admin, version("2026-06-01", true)), 409, "policy_version_exists");
    expectProblem(await publish(admin, version("2026-05-01", true)), 409, "policy_version_exists");
    expectProblem(await publish(admin, version(POLICY_VERSION, true)), 409, "policy_version_exists");
    expect((await env.DB.prepare("select count(*) as n from policy_versions").first<{ n: number }>())?.n).toBe(1);
  });

  it("refuses a version that is not a date", async () => {
    const admin = await createAdmin();
    expectProblem(await publish(admin, version("latest", false)), 400, "validation_failed");
  });

  it("a non-admin gets 403 on both routes, and nothing is published", async () => {
    const user = await createUser();
    expectProblem(await publish(user, version("2026-06-01", true)), 403, "forbidden");
    expectProblem(await call("GET", "/v1/admin/policy-versions", { ip: user.ip, token: user.accessToken }), 403, "forbidden");
    expect((await call("GET", "/v1/policy")).json.version).toBe(POLICY_VERSION);
  });
});

describe("a material change is emailed", () => {
  it("to each verified, live account once, across overlapping and later ticks, in bounded batches", async () => {
    const admin = await createAdmin();
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => createUser()));
    const unverified = await createUser({ verified: false });
    const deleted = await createUser();
    expect((await call("DELETE", "/v1/account", { ip: deleted.ip, token: deleted.accessToken, body: { password: deleted.password } })).status).toBeLessThan(300);
    expect((await publish(admin, version("2026-06-01", true))).status).toBe(201);

    const batch = { POLICY_NOTICE_BATCH: "2" };
    const all = await env.DB.prepare("select count(*) as n from users where deleted_at is null and email_verified_at is not null").first<{ n: number }>();
    const now = Date.now();
    // Two ticks at the same minute, then enough later ticks to reach everyone, then more.
    await Promise.all([runCron(MINUTE, now, batch), runCron(MINUTE, now, batch)]);
    for (let i = 1; i <= all!.n; i++) await runCron(MINUTE, now + i * 60_000, batch);

    for (const user of [admin, ...users]) {
      const notices = noticesTo(user);
      expect(notices).toHaveLength(1);
      expect(notices[0]!.headers?.["X-Ozekai-Email-Kind"]).toBe("notice");
      expect(notices[0]!.text).toContain("Changes of 2026-06-01.");
      expect(notices[0]!.text).toContain("/privacy");
    }
    expect(noticesTo(unverified)).toHaveLength(0);
    const sent = await env.DB.prepare("select count(*) as n from policy_notices where sent_at is not null").first<{ n: number }>();
    expect(sent?.n).toBe(all!.n);
    expect((await env.DB.prepare("select count(*) as n from policy_notices where user_id = ?").bind(deleted.id).first<{ n: number }>())?.n).toBe(0);
  });

  it("an interrupted batch (claimed, never sent) is resumed after the claim timeout, without emailing the others again", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    expect((await publish(admin, version("2026-06-01", true))).status).toBe(201);
    const now = Date.now();
    // A tick that died between claiming and sending left this claim behind.
    await env.DB.prepare("insert into policy_notices (user_id, version, claimed_at, sent_at) values (?, '2026-06-01', ?, null)").bind(user.id, now).run();
    await runCron(MINUTE, now + 60_000);
    expect(noticesTo(user)).toHaveLength(0);
    expect(noticesTo(admin)).toHaveLength(1);
    await runCron(MINUTE, now + 11 * 60_000);
    await runCron(MINUTE, now + 12 * 60_000);
    expect(noticesTo(user)).toHaveLength(1);
    expect(noticesTo(admin)).toHaveLength(1);
  });

  it("a non-material change emails no one", async () => {
    const admin = await createAdmin();
    const before = outbox.length;
    expect((await publish(admin, version("2026-06-01", false))).status).toBe(201);
    await runCron(MINUTE, Date.now());
    expect(outbox.slice(before).filter((m) => m.subject === "Our privacy policy changed")).toHaveLength(0);
    expect((await env.DB.prepare("select count(*) as n from policy_notices").first<{ n: number }>())?.n).toBe(0);
  });

  it("a business transfer (policy §4) is told to every verified account in its own notice, and only with a material version", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const transfer = "Ozekai is being acquired by Example Compute Inc.; the service goes on under the same terms.";
    const refused = await publish(admin, { ...version("2026-06-01", false), transfer });
    expectProblem(refused, 400, "validation_failed");
    expect(refused.json.errors.map((e: { field: string }) => e.field)).toEqual(["material"]);

    const published = await publish(admin, { ...version("2026-06-01", true), transfer });
    expect(published.status).toBe(201);
    expect(published.json).toMatchObject({ version: "2026-06-01", transfer });
    await runCron(MINUTE, Date.now());
    const told = outbox.filter((m) => m.to === user.email && m.subject === "Ozekai is changing hands: what it means for your data");
    expect(told).toHaveLength(1);
    expect(told[0]!.headers?.["X-Ozekai-Email-Kind"]).toBe("notice");
    expect(told[0]!.text).toContain(transfer);
    expect(told[0]!.text).toContain("Changes of 2026-06-01.");
    expect(noticesTo(user)).toHaveLength(0);
  });
});

describe("POST /v1/policy/accept and the account view", () => {
  it("the account shows a newer version until the user accepts it", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const me = () => call("GET", "/v1/account", { ip: user.ip, token: user.accessToken });
    expect((await me()).json.policy).toMatchObject({ acceptedVersion: POLICY_VERSION, currentVersion: POLICY_VERSION, newerAvailable: false });
    await publish(admin, version("2026-06-01", true));
    expect((await me()).json.policy).toMatchObject({ acceptedVersion: POLICY_VERSION, currentVersion: "2026-06-01", newerAvailable: true });

    expectProblem(await call("POST", "/v1/policy/accept", { ip: user.ip, token: user.accessToken, body: { version: POLICY_VERSION } }), 400, "validation_failed");
    const accepted = await call("POST", "/v1/policy/accept", { ip: user.ip, token: user.accessToken, body: { version: "2026-06-01" } });
    expect(accepted.status).toBe(204);
    const policy = (await me()).json.policy;
    expect(policy).toMatchObject({ acceptedVersion: "2026-06-01", currentVersion: "2026-06-01", newerAvailable: false });
    expect(Date.parse(policy.acceptedAt)).toBeGreaterThan(Date.now() - 60_000);
    const audit = await env.DB.prepare("select detail from account_events where user_id = ? and type = 'policy_accepted'").bind(user.id).all<{ detail: string }>();
    expect(audit.results.map((r) => JSON.parse(r.detail))).toEqual([{ version: "2026-06-01" }]);
  });

  it("needs a sign-in and a version", async () => {
    const user = await createUser();
    expectProblem(await call("POST", "/v1/policy/accept", { body: { version: POLICY_VERSION } }), 401, "unauthorized");
    expectProblem(await call("POST", "/v1/policy/accept", { ip: user.ip, token: user.accessToken, body: {} }), 400, "validation_failed");
  });

  it("signup after a publish must accept the new version", async () => {
    const admin = await createAdmin();
    await publish(admin, version("2026-06-01", false));
    const body = { username: `u${crypto.randomUUID().slice(0, 8)}`, email: `u-${crypto.randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple 42", ageConfirmed: true };
    expectProblem(await call("POST", "/v1/auth/signup", { body: { ...body, policyVersion: POLICY_VERSION } }), 400, "validation_failed");
    expect((await call("POST", "/v1/auth/signup", { body: { ...body, policyVersion: "2026-06-01" } })).status).toBe(202);
  });
});
