/**
 * /v1/auth/* — the paths that are meant to work: signup, verification, login (username or email),
 * refresh rotation, logout, password reset, unverified accounts, and long passwords.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, outbox, POLICY_VERSION, randomId, randomIp, signup, tokenFromEmail } from "./harness";

const mailsTo = (to: string) => outbox.filter((m) => m.to === to);

async function login(loginName: string, password: string, ip = randomIp()) {
  return call("POST", "/v1/auth/login", { ip, body: { login: loginName, password } });
}

async function account(accessToken: string) {
  return call("GET", "/v1/account", { token: accessToken });
}

function expectTokenPair(res: Awaited<ReturnType<typeof call>>) {
  expect(res.status, res.text).toBe(200);
  expect(res.json).toEqual({ accessToken: expect.any(String), tokenType: "Bearer", expiresIn: 900, refreshToken: expect.any(String) });
  expect(res.json.accessToken.split(".")).toHaveLength(3);
  expect(res.json.refreshToken.length).toBeGreaterThanOrEqual(43);
}

async function userRow(username: string) {
  return env.DB.prepare("select * from users where username = ?").bind(username).first<Record<string, unknown>>();
}

describe("signup and email verification", () => {
  it("signup answers 202 and emails a verification link with a #token=", async () => {
    const u = await signup();
    expect(u.res.status, u.res.text).toBe(202);
    expect(u.res.json).toEqual({ status: "accepted", message: expect.any(String) });

    const mails = mailsTo(u.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/Verify/);
    expect(mails[0]!.text).toMatch(/https:\/\/ozekai\.test\/verify-email#token=[A-Za-z0-9_-]{43}/);
    expect(mails[0]!.headers?.["X-Ozekai-Email-Kind"]).toBe("account");

    const row = await userRow(u.username);
    expect(row).toMatchObject({ username: u.username, email: u.email, email_verified_at: null, role: "user", policy_version: POLICY_VERSION, deleted_at: null });
    expect(row!.age_confirmed_at).toEqual(expect.any(Number));
  });

  it("verify-email marks the address verified; the account shows it", async () => {
    const u = await signup();
    expect(u.res.status).toBe(202);
    const token = tokenFromEmail(u.email, /Verify/);

    const verified = await call("POST", "/v1/auth/verify-email", { body: { token } });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.json).toEqual({ emailVerified: true });
    expect((await userRow(u.username))!.email_verified_at).toEqual(expect.any(Number));

    const signedIn = await login(u.username, u.password);
    expectTokenPair(signedIn);
    const me = await account(signedIn.json.accessToken);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ username: u.username, email: u.email, emailVerified: true, canStartSessions: false, restrictions: ["no_plan"] });
  });
});

describe("login", () => {
  it("by username", async () => {
    const user = await createUser();
    const res = await login(user.username, user.password);
    expectTokenPair(res);
    const me = await account(res.json.accessToken);
    expect(me.status).toBe(200);
    expect(me.json.id).toBe(user.id);
  });

  it("by username, case-insensitively", async () => {
    const user = await createUser();
    const res = await login(user.username.toUpperCase(), user.password);
    expectTokenPair(res);
    expect((await account(res.json.accessToken)).json.id).toBe(user.id);
  });

  it("by email address", async () => {
    const user = await createUser();
    const res = await login(user.email, user.password);
    expectTokenPair(res);
    expect((await account(res.json.accessToken)).json.id).toBe(user.id);
  });

  it("by email address, case-insensitively (upper-cased)", async () => {
    const user = await createUser();
    const res = await login(user.email.toUpperCase(), user.password);
    expectTokenPair(res);
    expect((await account(res.json.accessToken)).json.id).toBe(user.id);
  });

  it("each login is its own sign-in with its own tokens", async () => {
    const user = await createUser();
    const a = await login(user.username, user.password);
    const b = await login(user.username, user.password);
    expectTokenPair(a);
    expectTokenPair(b);
    expect(a.json.refreshToken).not.toBe(b.json.refreshToken);
    expect(a.json.accessToken).not.toBe(b.json.accessToken);
    const sessions = await env.DB.prepare("select count(*) as n from login_sessions where user_id = ? and revoked_at is null").bind(user.id).first<{ n: number }>();
    // createUser's sign-in plus these two.
    expect(sessions!.n).toBe(3);
  });
});

describe("refresh", () => {
  it("rotates: the new refresh token differs and the new pair works", async () => {
    const user = await createUser();
    const first = await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expectTokenPair(first);
    expect(first.json.refreshToken).not.toBe(user.refreshToken);
    expect(first.json.accessToken).not.toBe(user.accessToken);

    const me = await account(first.json.accessToken);
    expect(me.status).toBe(200);
    expect(me.json.id).toBe(user.id);

    // The new refresh token works in turn, and rotates again.
    const second = await call("POST", "/v1/auth/refresh", { body: { refreshToken: first.json.refreshToken } });
    expectTokenPair(second);
    expect(second.json.refreshToken).not.toBe(first.json.refreshToken);
    expect((await account(second.json.accessToken)).status).toBe(200);

    // Rotation keeps the same sign-in: one login session, three refresh tokens, two used.
    const rows = await env.DB.prepare("select login_session_id, used_at from refresh_tokens where user_id = ? order by created_at").bind(user.id).all<{
      login_session_id: string;
      used_at: number | null;
    }>();
    expect(rows.results).toHaveLength(3);
    expect(new Set(rows.results.map((r) => r.login_session_id)).size).toBe(1);
    expect(rows.results.filter((r) => r.used_at === null)).toHaveLength(1);
  });

  it("the access token from before the refresh still works until it expires", async () => {
    const user = await createUser();
    const res = await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expectTokenPair(res);
    expect((await account(user.accessToken)).status).toBe(200);
  });
});

describe("logout", () => {
  it("answers 204 and ends that sign-in: its access and refresh tokens stop working", async () => {
    const user = await createUser();
    const other = await login(user.username, user.password);
    expectTokenPair(other);

    const res = await call("POST", "/v1/auth/logout", { token: user.accessToken });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");

    expectProblem(await account(user.accessToken), 401, "unauthorized");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } }), 401, "unauthorized");

    // Only that sign-in: the other one goes on.
    expect((await account(other.json.accessToken)).status).toBe(200);
    expectTokenPair(await call("POST", "/v1/auth/refresh", { body: { refreshToken: other.json.refreshToken } }));

    const row = await env.DB.prepare("select revoked_reason from login_sessions where user_id = ? and revoked_at is not null").bind(user.id).all();
    expect(row.results).toEqual([{ revoked_reason: "logout" }]);
  });

  it("needs an access token", async () => {
    expectProblem(await call("POST", "/v1/auth/logout"), 401, "unauthorized");
  });
});

describe("password reset", () => {
  it("request + confirm: the new password works, the old one does not, every sign-in ends", async () => {
    const user = await createUser();
    const second = await login(user.email, user.password);
    expectTokenPair(second);

    const requested = await call("POST", "/v1/auth/password-reset", { body: { email: user.email } });
    expect(requested.status, requested.text).toBe(202);
    expect(requested.json).toEqual({ status: "accepted", message: expect.any(String) });
    const mail = mailsTo(user.email).at(-1)!;
    expect(mail.subject).toMatch(/Reset/);
    expect(mail.text).toMatch(/https:\/\/ozekai\.test\/reset-password#token=/);
    const token = tokenFromEmail(user.email, /Reset/);

    const newPassword = `new pass ${randomId()} ${randomId()}`;
    const confirmed = await call("POST", "/v1/auth/password-reset/confirm", { body: { token, password: newPassword } });
    expect(confirmed.status, confirmed.text).toBe(204);
    expect(mailsTo(user.email).at(-1)!.subject).toMatch(/password was changed/);

    // Every existing sign-in is over: access tokens and refresh tokens.
    for (const accessToken of [user.accessToken, second.json.accessToken]) expectProblem(await account(accessToken), 401, "unauthorized");
    for (const refreshToken of [user.refreshToken, second.json.refreshToken]) {
      expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken } }), 401, "unauthorized");
    }

    expectProblem(await login(user.username, user.password), 401, "invalid_credentials");
    const fresh = await login(user.username, newPassword);
    expectTokenPair(fresh);
    expect((await account(fresh.json.accessToken)).json.id).toBe(user.id);
  });

  it("confirming a reset verifies the address of an unverified account", async () => {
    const user = await createUser({ verified: false });
    expect((await account(user.accessToken)).json.emailVerified).toBe(false);

    expect((await call("POST", "/v1/auth/password-reset", { body: { email: user.email } })).status).toBe(202);
    const token = tokenFromEmail(user.email, /Reset/);
    const newPassword = `another ${randomId()} passphrase`;
    expect((await call("POST", "/v1/auth/password-reset/confirm", { body: { token, password: newPassword } })).status).toBe(204);

    const signedIn = await login(user.username, newPassword);
    expectTokenPair(signedIn);
    const me = await account(signedIn.json.accessToken);
    expect(me.json).toMatchObject({ emailVerified: true, canStartSessions: false, restrictions: ["no_plan"] });
  });

  it("accepts the address in another case", async () => {
    const user = await createUser();
    expect((await call("POST", "/v1/auth/password-reset", { body: { email: user.email.toUpperCase() } })).status).toBe(202);
    const token = tokenFromEmail(user.email, /Reset/);
    const newPassword = `upper case ${randomId()} works`;
    expect((await call("POST", "/v1/auth/password-reset/confirm", { body: { token, password: newPassword } })).status).toBe(204);
    expectTokenPair(await login(user.username, newPassword));
  });
});

describe("unverified accounts", () => {
  it("can sign in but cannot start sessions", async () => {
    const u = await signup();
    expect(u.res.status).toBe(202);
    const signedIn = await login(u.username, u.password, u.ip);
    expectTokenPair(signedIn);
    const me = await account(signedIn.json.accessToken);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ username: u.username, email: u.email, emailVerified: false, canStartSessions: false, restrictions: ["email_unverified", "no_plan"] });
  });
});

describe("long passwords", () => {
  it("every byte counts, past bcrypt's 72", async () => {
    const head = `${randomId()}${randomId()}${randomId()}${randomId()}${randomId()}${randomId()}`; // 72 characters (ASCII: 72 bytes)
    expect(new TextEncoder().encode(head)).toHaveLength(72);
    const password = `${head}${"x".repeat(28)}`;
    const otherTail = `${head}${"y".repeat(28)}`;
    expect(password).toHaveLength(100);

    const u = await signup({ password });
    expect(u.res.status, u.res.text).toBe(202);
    expect((await call("POST", "/v1/auth/verify-email", { body: { token: tokenFromEmail(u.email, /Verify/) } })).status).toBe(200);

    expectTokenPair(await login(u.username, password));
    expectProblem(await login(u.username, otherTail), 401, "invalid_credentials");
    expectProblem(await login(u.username, head), 401, "invalid_credentials");
  });

  it("multi-byte characters past byte 72 count too", async () => {
    const head = "é".repeat(36); // 72 bytes in UTF-8
    const password = `${head}${randomId()}`;
    const u = await signup({ password });
    expect(u.res.status, u.res.text).toBe(202);
    expectTokenPair(await login(u.username, password));
    expectProblem(await login(u.username, `${head}${randomId()}`), 401, "invalid_credentials");
  });

});
