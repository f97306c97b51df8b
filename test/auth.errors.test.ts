/**
 * /v1/auth/* — what is refused and how: field-level validation problems, malformed JSON, invalid
 * (unknown, used, expired) verification and reset tokens, wrong credentials.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, GOOD_PASSWORD, outbox, POLICY_VERSION, randomId, randomIp, signup, tokenFromEmail } from "./harness";

type Res = Awaited<ReturnType<typeof call>>;

const newEmail = () => `user-${randomId()}@example.com`;
const newUsername = () => `u${randomId()}`;

function signupBody(overrides: Record<string, unknown> = {}) {
  return { username: newUsername(), email: newEmail(), password: GOOD_PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true, ...overrides };
}

const postSignup = (body: unknown) => call("POST", "/v1/auth/signup", { body });

/** A 400 validation_failed whose `errors` name `field`. */
function expectFieldError(res: Res, field: string) {
  expectProblem(res, 400, "validation_failed");
  expect(Array.isArray(res.json.errors), res.text).toBe(true);
  expect(res.json.errors.length).toBeGreaterThan(0);
  for (const e of res.json.errors) expect(e).toEqual({ field: expect.any(String), message: expect.any(String) });
  expect(res.json.errors.map((e: { field: string }) => e.field)).toContain(field);
}

async function userCount(where: string, value: string) {
  const row = await env.DB.prepare(`select count(*) as n from users where ${where} = ?`).bind(value).first<{ n: number }>();
  return row!.n;
}

/** A rejected signup leaves no account and sends no email. */
async function expectNothingCreated(body: { username?: unknown; email?: unknown }) {
  if (typeof body.email === "string") {
    expect(await userCount("email", body.email.toLowerCase())).toBe(0);
    expect(outbox.filter((m) => m.to === body.email)).toHaveLength(0);
  }
  if (typeof body.username === "string") expect(await userCount("username", body.username.toLowerCase())).toBe(0);
}

describe("signup: password rules", () => {
  it("refuses a password shorter than 8 characters", async () => {
    const body = signupBody({ password: "Ab3$x9!" });
    const res = await postSignup(body);
    expectFieldError(res, "password");
    expect(res.json.errors[0].message).toMatch(/8/);
    await expectNothingCreated(body);
  });

  it("accepts exactly 8 characters", async () => {
    const body = signupBody({ password: `q${randomId().slice(0, 7)}` });
    expect((await postSignup(body)).status).toBe(202);
    expect(await userCount("username", body.username)).toBe(1);
  });

  it.each(["password123", "qwertyuiop", "PASSWORD123", "12345678"])("refuses the common password %s", async (password) => {
    const body = signupBody({ password });
    const res = await postSignup(body);
    expectFieldError(res, "password");
    expect(res.json.errors[0].message).toMatch(/common/);
    await expectNothingCreated(body);
  });

  it("refuses a password equal to the username (any case)", async () => {
    const username = `name${randomId()}`;
    for (const password of [username, username.toUpperCase()]) {
      const body = signupBody({ username, password });
      const res = await postSignup(body);
      expectFieldError(res, "password");
      expect(res.json.errors[0].message).toMatch(/username/);
    }
    expect(await userCount("username", username)).toBe(0);
  });

  it("refuses a password equal to the email address", async () => {
    const email = newEmail();
    const body = signupBody({ email, password: email });
    expectFieldError(await postSignup(body), "password");
    await expectNothingCreated(body);
  });

  it("never echoes the submitted password in a validation problem", async () => {
    const password = `pw${randomId()}`.slice(0, 7);
    const res = await postSignup(signupBody({ password }));
    expectFieldError(res, "password");
    expect(res.text).not.toContain(password);
  });
});

describe("signup: username rules", () => {
  it.each([
    ["too short", "ab"],
    ["too long", `a${"b".repeat(40)}`],
    ["starts with a digit", "1abc"],
    ["has a space", "ab cd"],
    ["has an @", "ab@cd"],
    ["ends with -", "abcd-"],
    ["empty", ""],
  ])("refuses a username that is %s", async (_, username) => {
    const body = signupBody({ username });
    expectFieldError(await postSignup(body), "username");
    await expectNothingCreated({ email: body.email });
  });

  it.each(["admin", "Admin", "ROOT", " support "])("refuses the reserved name %j", async (username) => {
    const res = await postSignup(signupBody({ username }));
    expectFieldError(res, "username");
    expect(res.json.errors.find((e: { field: string }) => e.field === "username").message).toMatch(/reserved/);
  });

  it("accepts upper case and stores the name lower-cased", async () => {
    const lower = `mixed${randomId()}`;
    const mixed = `MiXeD${lower.slice(5).toUpperCase()}`;
    expect(mixed.toLowerCase()).toBe(lower);
    const body = signupBody({ username: mixed });
    const res = await postSignup(body);
    expect(res.status, res.text).toBe(202);

    const row = await env.DB.prepare("select username from users where email = ?").bind(body.email).first<{ username: string }>();
    expect(row).toEqual({ username: lower });
    expect(await userCount("username", mixed)).toBe(0);

    // Signs in under either spelling.
    for (const login of [lower, mixed]) {
      expect((await call("POST", "/v1/auth/login", { body: { login, password: GOOD_PASSWORD } })).status).toBe(200);
    }
  });

  it("refuses a non-string username", async () => {
    expectFieldError(await postSignup(signupBody({ username: 12345 })), "username");
  });
});

describe("signup: other fields", () => {
  it.each(["not-an-email", "missing-at.example.com", `user-${"x"}@`, `${"@"}example.com`, "a b@example.com", ""])("refuses the address %j", async (email) => {
    const body = signupBody({ email });
    expectFieldError(await postSignup(body), "email");
    expect(await userCount("username", body.username)).toBe(0);
  });

  it("refuses a missing ageConfirmed", async () => {
    const { ageConfirmed: _, ...body } = signupBody();
    const res = await postSignup(body);
    expectFieldError(res, "ageConfirmed");
    await expectNothingCreated(body);
  });

  it.each([false, "true", 1])("refuses ageConfirmed %j", async (ageConfirmed) => {
    const body = signupBody({ ageConfirmed });
    const res = await postSignup(body);
    expectFieldError(res, "ageConfirmed");
    expect(res.json.errors.find((e: { field: string }) => e.field === "ageConfirmed").message).toMatch(/18/);
    await expectNothingCreated(body);
  });

  it.each(["2020-01-01", "", "latest"])("refuses the policy version %j", async (policyVersion) => {
    const body = signupBody({ policyVersion });
    const res = await postSignup(body);
    expectFieldError(res, "policyVersion");
    await expectNothingCreated(body);
  });

  it("refuses a missing policyVersion", async () => {
    const { policyVersion: _, ...body } = signupBody();
    expectFieldError(await postSignup(body), "policyVersion");
    await expectNothingCreated(body);
  });

  it("reports every bad field at once", async () => {
    const res = await postSignup({ username: "x", email: "nope", password: GOOD_PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: false });
    expectFieldError(res, "username");
    const fields = res.json.errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(["username", "email", "ageConfirmed"]));
  });
});

describe("strict bodies: unknown fields are refused", () => {
  it("signup", async () => {
    const body = { ...signupBody(), role: "admin" };
    const res = await postSignup(body);
    expectProblem(res, 400, "validation_failed");
    expect(res.json.errors.length).toBeGreaterThan(0);
    expect(res.json.errors[0].message).toMatch(/role/);
    await expectNothingCreated(body);
  });

  it("login", async () => {
    const user = await createUser();
    const res = await call("POST", "/v1/auth/login", { body: { login: user.username, password: user.password, remember: true } });
    expectProblem(res, 400, "validation_failed");
  });

  it("verify-email, refresh, password-reset and confirm", async () => {
    const extra = { extra: 1 };
    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: "abc", ...extra } }), 400, "validation_failed");
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: "abc", ...extra } }), 400, "validation_failed");
    expectProblem(await call("POST", "/v1/auth/password-reset", { body: { email: newEmail(), ...extra } }), 400, "validation_failed");
    expectProblem(await call("POST", "/v1/auth/password-reset/confirm", { body: { token: "abc", password: GOOD_PASSWORD, ...extra } }), 400, "validation_failed");
  });
});

describe("malformed requests", () => {
  it.each([
    ["/v1/auth/signup", "{not json"],
    ["/v1/auth/login", '{"login": "a", "password": '],
    ["/v1/auth/refresh", "refreshToken=abc"],
  ])("%s with malformed JSON → 400 malformed_json", async (path, rawBody) => {
    const res = await call("POST", path, { rawBody, headers: { "Content-Type": "application/json" } });
    expectProblem(res, 400, "malformed_json");
  });

  it("a body that is JSON but not an object is a validation problem", async () => {
    for (const rawBody of ["[]", "null", '"text"', "42"]) {
      const res = await call("POST", "/v1/auth/login", { rawBody, headers: { "Content-Type": "application/json" } });
      expectProblem(res, 400, "validation_failed");
    }
  });

  it("a body that is not JSON at all → 415", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: "login=a&password=b", headers: { "Content-Type": "application/x-www-form-urlencoded" } });
    expectProblem(res, 415, "unsupported_media_type");
  });
});

describe("verification tokens", () => {
  it("an unknown token → 400 token_invalid", async () => {
    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: "A".repeat(43) } }), 400, "token_invalid");
  });

  it("an empty token → 400 validation_failed", async () => {
    expectFieldError(await call("POST", "/v1/auth/verify-email", { body: { token: "" } }), "token");
  });

  it("a used token → 400 token_invalid", async () => {
    const u = await signup();
    expect(u.res.status).toBe(202);
    const token = tokenFromEmail(u.email, /Verify/);
    expect((await call("POST", "/v1/auth/verify-email", { body: { token } })).status).toBe(200);
    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token } }), 400, "token_invalid");
  });

  it("an expired token → 400 token_invalid, and the address stays unverified", async () => {
    const u = await signup();
    expect(u.res.status).toBe(202);
    const token = tokenFromEmail(u.email, /Verify/);
    const expired = await env.DB.prepare("update single_use_tokens set expires_at = 0 where user_id = (select id from users where username = ?)")
      .bind(u.username)
      .run();
    expect(expired.meta.changes).toBe(1);

    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token } }), 400, "token_invalid");
    const row = await env.DB.prepare("select email_verified_at from users where username = ?").bind(u.username).first();
    expect(row).toEqual({ email_verified_at: null });
  });

  it("a password reset token is not a verification token", async () => {
    const user = await createUser({ verified: false });
    expect((await call("POST", "/v1/auth/password-reset", { body: { email: user.email } })).status).toBe(202);
    const resetToken = tokenFromEmail(user.email, /Reset/);
    expectProblem(await call("POST", "/v1/auth/verify-email", { body: { token: resetToken } }), 400, "token_invalid");
    // …and it still works for what it is.
    expect((await call("POST", "/v1/auth/password-reset/confirm", { body: { token: resetToken, password: `fresh ${randomId()} words` } })).status).toBe(204);
  });
});

describe("password reset tokens", () => {
  async function resetToken(email: string) {
    const res = await call("POST", "/v1/auth/password-reset", { body: { email } });
    expect(res.status).toBe(202);
    return tokenFromEmail(email, /Reset/);
  }
  const confirm = (token: string, password: string) => call("POST", "/v1/auth/password-reset/confirm", { body: { token, password } });

  it("an unknown token → 400 token_invalid", async () => {
    expectProblem(await confirm("B".repeat(43), `new ${randomId()} password`), 400, "token_invalid");
  });

  it("works only once", async () => {
    const user = await createUser();
    const token = await resetToken(user.email);
    const first = `first ${randomId()} password`;
    const second = `second ${randomId()} password`;
    expect((await confirm(token, first)).status).toBe(204);
    expectProblem(await confirm(token, second), 400, "token_invalid");

    // The second attempt changed nothing.
    expect((await call("POST", "/v1/auth/login", { body: { login: user.username, password: first } })).status).toBe(200);
    expectProblem(await call("POST", "/v1/auth/login", { body: { login: user.username, password: second } }), 401, "invalid_credentials");
  });

  it("an expired token → 400 token_invalid, and the password is unchanged", async () => {
    const user = await createUser();
    const token = await resetToken(user.email);
    const expired = await env.DB.prepare("update single_use_tokens set expires_at = 0 where user_id = ? and purpose = 'reset_password'").bind(user.id).run();
    expect(expired.meta.changes).toBe(1);

    expectProblem(await confirm(token, `new ${randomId()} password`), 400, "token_invalid");
    expect((await call("POST", "/v1/auth/login", { body: { login: user.username, password: user.password } })).status).toBe(200);
    expect((await call("GET", "/v1/account", { token: user.accessToken })).status).toBe(200);
  });

  it("a verification token is not a reset token", async () => {
    const u = await signup();
    expect(u.res.status).toBe(202);
    expectProblem(await confirm(tokenFromEmail(u.email, /Verify/), `new ${randomId()} password`), 400, "token_invalid");
  });

  it("the new password follows the same rules, and a refused one does not use up the token", async () => {
    const user = await createUser();
    const token = await resetToken(user.email);
    expectFieldError(await confirm(token, "short"), "password");
    expectFieldError(await confirm(token, "password123"), "password");
    expectFieldError(await confirm(token, user.username), "password");
    const good = `good ${randomId()} password`;
    expect((await confirm(token, good)).status).toBe(204);
  });

  it("an invalid address is a field error", async () => {
    expectFieldError(await call("POST", "/v1/auth/password-reset", { body: { email: "not an address" } }), "email");
  });
});

describe("login and refresh failures", () => {
  it("a wrong password → 401 invalid_credentials", async () => {
    const user = await createUser();
    for (const login of [user.username, user.email]) {
      const res = await call("POST", "/v1/auth/login", { ip: randomIp(), body: { login, password: `${user.password}!` } });
      expectProblem(res, 401, "invalid_credentials");
      expect(res.json.accessToken).toBeUndefined();
    }
    // A failed login is audited against the account.
    const audited = await env.DB.prepare("select count(*) as n from account_events where user_id = ? and type = 'login_failed'").bind(user.id).first<{ n: number }>();
    expect(audited!.n).toBe(2);
  });

  it("an empty password → 401 invalid_credentials (not a hint about rules)", async () => {
    const user = await createUser();
    expectProblem(await call("POST", "/v1/auth/login", { body: { login: user.username, password: "" } }), 401, "invalid_credentials");
  });

  it("a missing login field → 400 validation_failed", async () => {
    expectFieldError(await call("POST", "/v1/auth/login", { body: { password: GOOD_PASSWORD } }), "login");
    expectFieldError(await call("POST", "/v1/auth/login", { body: { login: "", password: GOOD_PASSWORD } }), "login");
  });

  it("an unknown refresh token → 401 unauthorized", async () => {
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: "C".repeat(43) } }), 401, "unauthorized");
  });

  it("an expired refresh token → 401 unauthorized", async () => {
    const user = await createUser();
    await env.DB.prepare("update refresh_tokens set expires_at = 0 where user_id = ?").bind(user.id).run();
    expectProblem(await call("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } }), 401, "unauthorized");
  });

  it("a malformed or forged access token → 401", async () => {
    const user = await createUser();
    const [header, payload] = user.accessToken.split(".");
    for (const token of ["garbage", `${header}.${payload}.`, `${header}.${payload}.${"A".repeat(86)}`]) {
      expectProblem(await call("GET", "/v1/account", { token }), 401, "unauthorized");
    }
  });
});
