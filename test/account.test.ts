/** GET / PATCH / DELETE /v1/account and PUT /v1/account/password: happy, error and security cases. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingRow, setSubscription, stripeRequests } from "./billing-harness";
import { call, createUser, expectProblem, outbox, POLICY_VERSION, randomId, randomIp, signup, type TestUser, tokenFromEmail } from "./harness";

const ACCOUNT_FIELDS = [
  "id",
  "username",
  "email",
  "emailVerified",
  "pendingEmail",
  "role",
  "planId",
  "createdAt",
  "lastActiveAt",
  "policyVersion",
  "policy",
  "canStartSessions",
  "restrictions",
  "usageLimitHours",
  "usageLimitAction",
  "privacy",
].sort();

const newAddress = () => `new-${randomId()}@example.com`;
const newPassphrase = () => `a fresh passphrase ${randomId()}`;
const mailsTo = (to: string, subject: RegExp) => outbox.filter((m) => m.to === to && subject.test(m.subject));

const getAccount = (user: TestUser, token = user.accessToken) => call("GET", "/v1/account", { ip: user.ip, token });
/** Changes of username or email carry the current password unless the test says otherwise. */
const patchAccount = (user: TestUser, body: unknown) =>
  call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: withPassword(user, body) });
const withPassword = (user: TestUser, body: unknown) =>
  typeof body === "object" && body !== null && !Array.isArray(body) && ("username" in body || "email" in body) && !("currentPassword" in body)
    ? { ...body, currentPassword: user.password }
    : body;
const loginAs = (user: TestUser, login: string, password: string) => call("POST", "/v1/auth/login", { ip: user.ip, body: { login, password } });
const changePassword = (user: TestUser, body: unknown, token = user.accessToken) => call("PUT", "/v1/account/password", { ip: user.ip, token, body });
const deleteAccount = (user: TestUser, body: unknown, token = user.accessToken) => call("DELETE", "/v1/account", { ip: user.ip, token, body });

function expectFieldError(res: Awaited<ReturnType<typeof call>>, field: string) {
  expectProblem(res, 400, "validation_failed");
  expect(res.json.errors.map((e: { field: string }) => e.field)).toContain(field);
}

const userRow = (id: string) =>
  env.DB.prepare("SELECT username, email, password_hash, deleted_at FROM users WHERE id = ?")
    .bind(id)
    .first<{ username: string; email: string | null; password_hash: string | null; deleted_at: number | null }>();

describe("GET /v1/account", () => {
  it("returns the account's fields and nothing secret", async () => {
    const user = await createUser();
    const res = await getAccount(user);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(Object.keys(res.json).sort()).toEqual(ACCOUNT_FIELDS);
    expect(res.json).toMatchObject({
      id: user.id,
      username: user.username,
      email: user.email,
      emailVerified: true,
      pendingEmail: null,
      role: "user",
      planId: null,
      policyVersion: POLICY_VERSION,
      policy: { acceptedVersion: POLICY_VERSION, currentVersion: POLICY_VERSION, newerAvailable: false },
      // Verified, but no plan granted or bought yet.
      canStartSessions: false,
      restrictions: ["no_plan"],
    });
    expect(new Date(res.json.createdAt).toISOString()).toBe(res.json.createdAt);
    expect(new Date(res.json.lastActiveAt).toISOString()).toBe(res.json.lastActiveAt);
    expect(res.text).not.toMatch(/password|hash|\$2[aby]\$/i);
    expect(res.text).not.toContain(user.accessToken);
    expect(res.text).not.toContain(user.refreshToken);
    const row = await userRow(user.id);
    expect(res.text).not.toContain(row!.password_hash!);
  });

  it("shows an unverified account as unable to start sessions", async () => {
    const user = await createUser({ verified: false });
    const res = await getAccount(user);
    expect(res.json).toMatchObject({ emailVerified: false, canStartSessions: false, restrictions: ["email_unverified", "no_plan"] });
  });
});

describe("Authorization header", () => {
  it("the Bearer scheme is case-insensitive (RFC 9110)", async () => {
    const user = await createUser();
    const res = await call("GET", "/v1/account", { ip: user.ip, headers: { Authorization: `bearer ${user.accessToken}` } });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(user.id);
  });
});

describe("PATCH /v1/account: username", () => {
  it("changes the username, normalised to lower case; the new one signs in, the old one no longer does", async () => {
    const user = await createUser();
    const name = `Renamed${randomId()}`;
    const res = await patchAccount(user, { username: `  ${name.toUpperCase()} ` });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: user.id, username: name.toLowerCase(), email: user.email });
    expect((await getAccount(user)).json.username).toBe(name.toLowerCase());
    expect((await loginAs(user, name.toLowerCase(), user.password)).status).toBe(200);
    expectProblem(await loginAs(user, user.username, user.password), 401, "invalid_credentials");
  });

  it("setting the same username again is a no-op", async () => {
    const user = await createUser();
    const res = await patchAccount(user, { username: user.username.toUpperCase() });
    expect(res.status, res.text).toBe(200);
    expect(res.json.username).toBe(user.username);
  });

  it("409 username_taken when another account has it (in any case)", async () => {
    const user = await createUser();
    const other = await createUser();
    expectProblem(await patchAccount(user, { username: other.username }), 409, "username_taken");
    expectProblem(await patchAccount(user, { username: other.username.toUpperCase() }), 409, "username_taken");
    expect((await getAccount(user)).json.username).toBe(user.username);
  });

  it.each([
    ["too short", "ab"],
    ["too long", `a${"b".repeat(40)}`],
    ["starting with a digit", "1abc"],
    ["with spaces", "two words"],
    ["with symbols", "name!x"],
    ["ending with a dash", "name-"],
    ["reserved", "admin"],
    ["reserved, in upper case", "Support"],
    ["not a string", 42],
  ])("400 validation_failed for a username %s", async (_case, username) => {
    const user = await createUser();
    const res = await patchAccount(user, { username });
    expectFieldError(res, "username");
    expect((await getAccount(user)).json.username).toBe(user.username);
  });

  it("400 for an empty body, an unknown field or a non-object body", async () => {
    const user = await createUser();
    expectProblem(await patchAccount(user, {}), 400, "validation_failed");
    expectFieldError(await patchAccount(user, { role: "admin" }), "(body)");
    expectProblem(await patchAccount(user, { username: `u${randomId()}`, role: "admin" }), 400, "validation_failed");
    expectProblem(await patchAccount(user, []), 400, "validation_failed");
    expectProblem(await patchAccount(user, null), 400, "validation_failed");
    expectProblem(await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, rawBody: "{not json", headers: { "Content-Type": "application/json" } }), 400, "malformed_json");
    const me = (await getAccount(user)).json;
    expect(me).toMatchObject({ username: user.username, role: "user" });
  });
});

describe("PATCH /v1/account: email", () => {
  it("an email change is confirmed at the new address, then the old address is told", async () => {
    const user = await createUser();
    const next = newAddress();
    const res = await patchAccount(user, { email: next.toUpperCase() });
    expect(res.status, res.text).toBe(200);
    // Not switched yet: the new address must be confirmed first.
    expect(res.json).toMatchObject({ email: user.email, pendingEmail: next, emailVerified: true });
    expect(mailsTo(user.email, /Confirm your new email address/)).toHaveLength(0);
    const token = tokenFromEmail(next, /Confirm your new email address/);
    expectProblem(await loginAs(user, next, user.password), 401, "invalid_credentials");

    const verified = await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.json).toEqual({ emailVerified: true });

    const me = await getAccount(user);
    expect(me.json).toMatchObject({ email: next, pendingEmail: null, emailVerified: true });
    const notice = mailsTo(user.email, /Your email address was changed/);
    expect(notice).toHaveLength(1);
    expect(notice[0]!.text).toContain(next);
    // Its only link undoes the change; nothing in it confirms or signs in.
    expect(notice[0]!.text.match(/#token=/g)).toHaveLength(1);
    expect(notice[0]!.text).toMatch(/\/revert-email#token=/);

    expect((await loginAs(user, next, user.password)).status).toBe(200);
    expectProblem(await loginAs(user, user.email, user.password), 401, "invalid_credentials");
    // Single use.
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 400, "token_invalid");
  });

  it("only the latest change can complete: an earlier link stops working", async () => {
    const user = await createUser();
    const first = newAddress();
    const second = newAddress();
    expect((await patchAccount(user, { email: first })).status).toBe(200);
    const firstToken = tokenFromEmail(first, /Confirm your new email address/);
    expect((await patchAccount(user, { email: second })).json.pendingEmail).toBe(second);
    const secondToken = tokenFromEmail(second, /Confirm your new email address/);
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: firstToken } }), 400, "token_invalid");
    expect((await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: secondToken } })).status).toBe(200);
    expect((await getAccount(user)).json.email).toBe(second);
  });

  it("a password change cancels a pending change (an intruder's link dies when the owner locks them out)", async () => {
    const user = await createUser();
    const intruder = newAddress();
    expect((await patchAccount(user, { email: intruder })).status).toBe(200);
    const token = tokenFromEmail(intruder, /Confirm your new email address/);
    const changed = await changePassword(user, { currentPassword: user.password, newPassword: newPassphrase() });
    expect(changed.status, changed.text).toBe(200);
    expect((await getAccount(user, changed.json.accessToken)).json.pendingEmail).toBeNull();
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 400, "token_invalid");
    expect((await getAccount(user, changed.json.accessToken)).json.email).toBe(user.email);
  });

  it("a password reset cancels a pending change too", async () => {
    const user = await createUser();
    const intruder = newAddress();
    expect((await patchAccount(user, { email: intruder })).status).toBe(200);
    const token = tokenFromEmail(intruder, /Confirm your new email address/);
    expect((await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: user.email } })).status).toBe(202);
    const reset = tokenFromEmail(user.email, /Reset your password/);
    const confirmed = await call("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token: reset, password: newPassphrase() } });
    expect(confirmed.status, confirmed.text).toBe(204);
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 400, "token_invalid");
    expect((await userRow(user.id))!.email).toBe(user.email);
  });

  it("409 email_taken at verification when the address belongs to another account", async () => {
    const user = await createUser();
    const other = await createUser();
    // No enumeration at request time: the answer is the same as for a free address.
    const res = await patchAccount(user, { email: other.email });
    expect(res.status, res.text).toBe(200);
    expect(res.json.pendingEmail).toBe(other.email);
    const token = tokenFromEmail(other.email, /Confirm your new email address/);
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 409, "email_taken");
    expect((await getAccount(user)).json.email).toBe(user.email);
    expect((await getAccount(other)).json.email).toBe(other.email);
    expect(mailsTo(user.email, /Your email address was changed/)).toHaveLength(0);
  });

  it("setting the current address again sends nothing", async () => {
    const user = await createUser();
    const before = outbox.length;
    const res = await patchAccount(user, { email: user.email.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ email: user.email, pendingEmail: null });
    expect(outbox.slice(before).filter((m) => m.to === user.email)).toHaveLength(0);
  });

  it("setting the current address again withdraws a pending change", async () => {
    const user = await createUser();
    const other = newAddress();
    expect((await patchAccount(user, { email: other })).json.pendingEmail).toBe(other);
    const token = tokenFromEmail(other, /Confirm your new email address/);
    expect((await patchAccount(user, { email: user.email })).json.pendingEmail).toBeNull();
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 400, "token_invalid");
    expect((await getAccount(user)).json.email).toBe(user.email);
  });

  it.each([["no at sign", "not-an-address"], ["empty", ""], ["too long", `${"a".repeat(250)}@example.com`], ["not a string", true]])(
    "400 validation_failed for an email %s",
    async (_case, email) => {
      const user = await createUser();
      expectFieldError(await patchAccount(user, { email }), "email");
      expect((await getAccount(user)).json.pendingEmail).toBeNull();
    },
  );

  it("a pending change dies with the account", async () => {
    const user = await createUser();
    const next = newAddress();
    expect((await patchAccount(user, { email: next })).status).toBe(200);
    const token = tokenFromEmail(next, /Confirm your new email address/);
    expect((await deleteAccount(user, { password: user.password })).status).toBe(202);
    expectProblem(await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token } }), 400, "token_invalid");
    expect((await userRow(user.id))!.email).toBeNull();
  });
});

describe("PATCH /v1/account: re-authentication and the old address's undo link", () => {
  /** An email change taken all the way through, by someone holding the token and the password. */
  async function takeOver(user: TestUser) {
    const intruder = newAddress();
    expect((await patchAccount(user, { email: intruder })).status).toBe(200);
    const verified = await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: tokenFromEmail(intruder, /Confirm your new email address/) } });
    expect(verified.status, verified.text).toBe(200);
    return { intruder, revertToken: tokenFromEmail(user.email, /Your email address was changed/) };
  }
  const revert = (user: TestUser, token: string) => call("POST", "/v1/auth/revert-email", { ip: user.ip, body: { token } });

  it.each([
    ["email", () => ({ email: newAddress() })],
    ["username", () => ({ username: `stolen${randomId()}` })],
  ])("a stolen access token alone cannot change the %s: the current password is required and checked", async (_field, change) => {
    const user = await createUser();
    const before = outbox.length;
    expectFieldError(await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: change() }), "currentPassword");
    expectProblem(await patchAccount(user, { ...change(), currentPassword: `${user.password}x` }), 403, "current_password_incorrect");
    expect(await getAccount(user).then((r) => r.json)).toMatchObject({ username: user.username, email: user.email, pendingEmail: null });
    expect(outbox.length).toBe(before);
    // The usage limit is not an identity change: no password needed.
    expect((await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { usageLimitHours: 5 } })).status).toBe(200);
  });

  it("the old address undoes a completed change: its address again, every sign-in ended, the password cleared, a reset link sent there", async () => {
    const user = await createUser();
    const { intruder, revertToken } = await takeOver(user);
    // The intruder also asked for a reset link at their address: it must die with the change.
    expect((await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: intruder } })).status).toBe(202);
    const intruderReset = tokenFromEmail(intruder, /Reset your password/);

    const res = await revert(user, revertToken);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ status: "reverted" });
    const row = await userRow(user.id);
    expect(row).toMatchObject({ email: user.email, password_hash: null });
    expectProblem(await getAccount(user), 401, "unauthorized");
    expectProblem(await call("POST", "/v1/auth/refresh", { ip: user.ip, body: { refreshToken: user.refreshToken } }), 401, "unauthorized");
    expectProblem(await loginAs(user, user.email, user.password), 401, "invalid_credentials");
    expectProblem(await loginAs(user, intruder, user.password), 401, "invalid_credentials");
    expectProblem(await call("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token: intruderReset, password: newPassphrase() } }), 400, "token_invalid");

    // The owner sets a new password from the link sent to the restored address.
    const reset = tokenFromEmail(user.email, /Your email address was restored/);
    const password = newPassphrase();
    expect((await call("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token: reset, password } })).status).toBe(204);
    expect((await loginAs(user, user.email, password)).status).toBe(200);
    const events = await env.DB.prepare("select type from account_events where user_id = ? order by id").bind(user.id).all<{ type: string }>();
    expect(events.results.map((e) => e.type)).toContain("email_change_reverted");
    // Single use.
    expectProblem(await revert(user, revertToken), 400, "token_invalid");
  });

  it("a password change by whoever took the address does not kill the undo link", async () => {
    const user = await createUser();
    const { revertToken } = await takeOver(user);
    expect((await changePassword(user, { currentPassword: user.password, newPassword: newPassphrase() })).status).toBe(200);
    expect((await revert(user, revertToken)).status).toBe(200);
    expect((await userRow(user.id))!.email).toBe(user.email);
  });

  it("409 email_taken when the old address belongs to another account by now; nothing changes", async () => {
    const user = await createUser();
    const { intruder, revertToken } = await takeOver(user);
    expect((await signup({ email: user.email })).res.status).toBe(202);
    expectProblem(await revert(user, revertToken), 409, "email_taken");
    expect(await userRow(user.id)).toMatchObject({ email: intruder });
    expect((await userRow(user.id))!.password_hash).not.toBeNull();
  });

  it.each([["unknown", () => "not-a-real-token"], ["a verification token", (t: string) => t]])("400 token_invalid for %s", async (_case, pick) => {
    const user = await createUser();
    const next = newAddress();
    expect((await patchAccount(user, { email: next })).status).toBe(200);
    expectProblem(await revert(user, pick(tokenFromEmail(next, /Confirm your new email address/))), 400, "token_invalid");
    expect((await getAccount(user)).status).toBe(200);
  });
});

describe("PATCH /v1/account: per-account rate limit", () => {
  it("each email change mails an address the caller chose, so one account gets at most 10 a minute (429, Retry-After)", async () => {
    const user = await createUser();
    const statuses: number[] = [];
    const refusedAddresses: string[] = [];
    let limited: Awaited<ReturnType<typeof call>> | undefined;
    // 25 calls span at most two windows of 10 (sign-in counted): some must be refused.
    for (let i = 0; i < 25; i++) {
      const address = newAddress();
      const res = await call("PATCH", "/v1/account", { ip: randomIp(), token: user.accessToken, body: { email: address, currentPassword: user.password } });
      statuses.push(res.status);
      if (res.status === 429) {
        limited ??= res;
        refusedAddresses.push(address);
      }
    }
    expect(new Set(statuses)).toEqual(new Set([200, 429]));
    expectProblem(limited!, 429, "rate_limited");
    expect(limited!.headers.get("Retry-After")).toMatch(/^\d+$/);
    // A refused change sends nothing.
    expect(outbox.filter((m) => refusedAddresses.includes(m.to))).toEqual([]);
  });
});

describe("unused reset links die with a new password", () => {
  const requestReset = async (user: TestUser) => {
    expect((await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: user.email } })).status).toBe(202);
    return tokenFromEmail(user.email, /Reset your password/);
  };
  const confirmReset = (user: TestUser, token: string) => call("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token, password: newPassphrase() } });

  it("a reset with one link kills every other unused one", async () => {
    const user = await createUser();
    const older = await requestReset(user);
    const used = await requestReset(user);
    expect((await confirmReset(user, used)).status).toBe(204);
    expectProblem(await confirmReset(user, older), 400, "token_invalid");
  });

  it("a password change kills every unused reset link", async () => {
    const user = await createUser();
    const link = await requestReset(user);
    expect((await changePassword(user, { currentPassword: user.password, newPassword: newPassphrase() })).status).toBe(200);
    expectProblem(await confirmReset(user, link), 400, "token_invalid");
  });
});

describe("PUT /v1/account/password", () => {
  it("403 current_password_incorrect with a wrong current password; nothing changes", async () => {
    const user = await createUser();
    const res = await changePassword(user, { currentPassword: `${user.password}x`, newPassword: newPassphrase() });
    expectProblem(res, 403, "current_password_incorrect");
    expect((await getAccount(user)).status).toBe(200);
    expect((await loginAs(user, user.username, user.password)).status).toBe(200);
  });

  it.each([
    ["too short", () => "short"],
    ["too common", () => "password"],
    ["equal to the username", (u: TestUser) => u.username],
    ["equal to the email address", (u: TestUser) => u.email],
    ["over the maximum length", () => "x".repeat(1025)],
  ])("400 validation_failed for a new password %s", async (_case, make) => {
    const user = await createUser();
    const res = await changePassword(user, { currentPassword: user.password, newPassword: make(user) });
    expectFieldError(res, "newPassword");
    expect(res.text).not.toContain(user.password);
    expect((await getAccount(user)).status).toBe(200);
  });

  it("400 for missing fields or unknown ones", async () => {
    const user = await createUser();
    expectProblem(await changePassword(user, {}), 400, "validation_failed");
    expectFieldError(await changePassword(user, { currentPassword: user.password }), "newPassword");
    expectProblem(await changePassword(user, { currentPassword: user.password, newPassword: newPassphrase(), userId: "x" }), 400, "validation_failed");
  });

  it("succeeds with a new token pair and ends every other sign-in", async () => {
    const user = await createUser();
    const other = (await loginAs(user, user.email, user.password)).json as { accessToken: string; refreshToken: string };
    const password = newPassphrase();
    const res = await changePassword(user, { currentPassword: user.password, newPassword: password });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ tokenType: "Bearer", expiresIn: expect.any(Number) });
    expect(res.json.accessToken).not.toBe(user.accessToken);
    expect(res.text).not.toContain(password);

    // The caller's old token and the other sign-in are over, access and refresh alike.
    for (const token of [user.accessToken, other.accessToken]) expectProblem(await getAccount(user, token), 401, "unauthorized");
    for (const refreshToken of [user.refreshToken, other.refreshToken]) {
      expectProblem(await call("POST", "/v1/auth/refresh", { ip: user.ip, body: { refreshToken } }), 401, "unauthorized");
    }
    // The new pair works.
    expect((await getAccount(user, res.json.accessToken)).json.id).toBe(user.id);
    const refreshed = await call("POST", "/v1/auth/refresh", { ip: user.ip, body: { refreshToken: res.json.refreshToken } });
    expect(refreshed.status, refreshed.text).toBe(200);

    expect((await loginAs(user, user.username, password)).status).toBe(200);
    expectProblem(await loginAs(user, user.username, user.password), 401, "invalid_credentials");
    expect(mailsTo(user.email, /Your password was changed/)).toHaveLength(1);
  });

  it("accepts a long passphrase beyond bcrypt's 72 bytes, and every byte counts", async () => {
    const user = await createUser();
    const password = `${"long passphrase ".repeat(6)}${randomId()}`;
    expect(new TextEncoder().encode(password).length).toBeGreaterThan(72);
    expect((await changePassword(user, { currentPassword: user.password, newPassword: password })).status).toBe(200);
    expect((await loginAs(user, user.username, password)).status).toBe(200);
    expectProblem(await loginAs(user, user.username, `${password.slice(0, -1)}!`), 401, "invalid_credentials");
  });
});

describe("DELETE /v1/account", () => {
  it("403 with a wrong password, 400 without one; the account stays", async () => {
    const user = await createUser();
    expectProblem(await deleteAccount(user, { password: `${user.password}x` }), 403, "current_password_incorrect");
    expectFieldError(await deleteAccount(user, {}), "password");
    expect((await getAccount(user)).status).toBe(200);
    expect((await loginAs(user, user.username, user.password)).status).toBe(200);
  });

  it("202 erases the personal data, ends every sign-in, and frees the address for a new signup", async () => {
    const user = await createUser();
    const other = (await loginAs(user, user.username, user.password)).json as { accessToken: string; refreshToken: string };
    const res = await deleteAccount(user, { password: user.password });
    expect(res.status, res.text).toBe(202);
    expect(res.json).toEqual({ status: "deleted" });

    for (const token of [user.accessToken, other.accessToken]) expectProblem(await getAccount(user, token), 401, "unauthorized");
    for (const refreshToken of [user.refreshToken, other.refreshToken]) {
      expectProblem(await call("POST", "/v1/auth/refresh", { ip: user.ip, body: { refreshToken } }), 401, "unauthorized");
    }
    expectProblem(await loginAs(user, user.username, user.password), 401, "invalid_credentials");
    expectProblem(await loginAs(user, user.email, user.password), 401, "invalid_credentials");

    const row = await userRow(user.id);
    expect(row).toMatchObject({ email: null, password_hash: null });
    expect(row!.deleted_at).not.toBeNull();
    expect(row!.username).not.toBe(user.username);
    expect(mailsTo(user.email, /Your account was deleted/)).toHaveLength(1);

    // A password reset for the old address goes nowhere.
    const before = outbox.length;
    expect((await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: user.email } })).status).toBe(202);
    expect(outbox.slice(before).filter((m) => m.to === user.email)).toHaveLength(0);

    // The same address and username can sign up again, as a new account.
    const again = await signup({ email: user.email, username: user.username });
    expect(again.res.status).toBe(202);
    const token = tokenFromEmail(user.email, /Verify/);
    expect((await call("POST", "/v1/auth/verify-email", { ip: again.ip, body: { token } })).status).toBe(200);
    const login = await call("POST", "/v1/auth/login", { ip: again.ip, body: { login: user.email, password: again.password } });
    expect(login.status, login.text).toBe(200);
    const fresh = await call("GET", "/v1/account", { ip: again.ip, token: login.json.accessToken });
    expect(fresh.json.id).not.toBe(user.id);
    expect(fresh.json).toMatchObject({ email: user.email, username: user.username });
  });

  it("202 keeps only the Stripe references of the billing account and leaves the Stripe work to the deletion outbox", async () => {
    const user = await createUser();
    await setSubscription(user.id, { status: "past_due", planId: "cpu-small", pastDueSince: Date.now() });
    await env.DB.prepare("update billing_accounts set current_period_end = ? where user_id = ?").bind(Date.now() + 86_400_000, user.id).run();
    const before = (await billingRow(user.id))!;
    expect((await deleteAccount(user, { password: user.password })).status).toBe(202);

    const row = (await billingRow(user.id))!;
    expect(row).toMatchObject({ stripe_customer_id: before.stripe_customer_id, stripe_subscription_id: before.stripe_subscription_id, plan_id: null, current_period_end: null, past_due_since: null });
    expect(row.closed_at).toBe((await userRow(user.id))!.deleted_at);
    // Canceled by the stripe-erasure job (test/billing.deletion.test.ts), not in the request.
    expect(await env.DB.prepare("select stripe_customer_id, stripe_subscription_id from deletion_outbox where user_id = ?").bind(user.id).first()).toEqual({
      stripe_customer_id: before.stripe_customer_id,
      stripe_subscription_id: before.stripe_subscription_id,
    });
    expect((await stripeRequests()).filter((r) => r.path.endsWith(String(before.stripe_subscription_id)))).toEqual([]);
  });

  it("deleting twice is impossible: the token died with the account", async () => {
    const user = await createUser();
    expect((await deleteAccount(user, { password: user.password })).status).toBe(202);
    expectProblem(await deleteAccount(user, { password: user.password }), 401, "unauthorized");
  });
});
