/**
 * Access and error logs (policy §1 technical data: IP, time, user agent, endpoint): what a line
 * holds, and that no password or token sent to the API ever lands in either (access-log lines
 * read from R2 once the queue is drained, error logs from D1).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/index";
import { accessLogLines, BASE, call, createUser, expectProblem, randomId, randomIp, signup, testEnv, tokenFromEmail } from "./harness";

const accessLog = async (requestId: string | null) => {
  const results = (await accessLogLines()).filter((line) => line.request_id === requestId);
  expect(results, `one access log line for ${requestId}`).toHaveLength(1);
  return results[0]!;
};

/** `call()` with an environment of the test's choosing. */
const callWith = (custom: Cloudflare.Env, method: string, path: string, body: unknown) => call(method, path, { env: custom, body });

const errorLogs = async (requestId: string | null) =>
  (await env.DB.prepare("SELECT * FROM error_logs WHERE request_id = ?").bind(requestId).all<Record<string, unknown>>()).results;


/**
 * The real database, except that any statement touching `users` fails when it runs (an outage
 * mid-request), the way D1 does: an error whose message quotes the statement and its bound values.
 */
const usersOutageDb = {
  prepare(query: string) {
    if (!/["`]users["`]/.test(query)) return env.DB.prepare(query);
    const failing = (values: unknown[]) => {
      const fail = async () => {
        throw new Error(`D1 is unavailable: ${query} params: ${values.join(", ")}`);
      };
      return { bind: (...more: unknown[]) => failing([...values, ...more]), all: fail, raw: fail, first: fail, run: fail };
    };
    return failing([]);
  },
  batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
  exec: (query: string) => env.DB.exec(query),
} as unknown as D1Database;

describe("access log lines", () => {
  it("record request id, method, path without query, status, user, client IP and user agent", async () => {
    const user = await createUser();
    const ip = randomIp();
    const userAgent = `ozekai-cli/${randomId()}`;
    const queryToken = `qt${randomId()}${randomId()}`;
    const startedAt = Date.now();
    const res = await call("GET", `/v1/account?token=${queryToken}&access_token=${user.accessToken}`, {
      ip,
      token: user.accessToken,
      headers: { "User-Agent": userAgent, "X-Forwarded-For": "203.0.113.9" },
    });
    expect(res.status).toBe(200);
    const row = await accessLog(res.headers.get("X-Request-Id"));
    expect(row).toMatchObject({ method: "GET", path: "/v1/account", status: 200, user_id: user.id, ip, user_agent: userAgent });
    expect(row.at).toBeGreaterThanOrEqual(startedAt - 1000);
    expect(row.at).toBeLessThanOrEqual(Date.now());
    expect(row.duration_ms).toBeGreaterThanOrEqual(0);

    const dump = JSON.stringify(await accessLogLines());
    expect(dump).not.toContain(queryToken);
    expect(dump).not.toContain("?");
    expect(dump).not.toContain("203.0.113.9");
  });

  it("an anonymous request has no user, one about an account (a failed sign-in) is that account's; the status is the one answered", async () => {
    const user = await createUser();
    const anonymous = await call("GET", "/v1/account");
    expect(await accessLog(anonymous.headers.get("X-Request-Id"))).toMatchObject({ status: 401, user_id: null, path: "/v1/account" });
    const failed = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password: `${user.password}!` } });
    expect(await accessLog(failed.headers.get("X-Request-Id"))).toMatchObject({ method: "POST", status: 401, user_id: user.id, ip: user.ip });
    const unknown = await call("POST", "/v1/auth/login", { body: { login: `nobody${randomId()}`, password: user.password } });
    expect(await accessLog(unknown.headers.get("X-Request-Id"))).toMatchObject({ status: 401, user_id: null });
    const missing = await call("DELETE", "/v1/nothing-here");
    expect(await accessLog(missing.headers.get("X-Request-Id"))).toMatchObject({ method: "DELETE", path: "/v1/nothing-here", status: 404 });
    const wrongMethod = await call("GET", "/v1/auth/login");
    expect(await accessLog(wrongMethod.headers.get("X-Request-Id"))).toMatchObject({ status: 405 });
  });

  it("a write by a signed-in user is attributed to them", async () => {
    const user = await createUser();
    const res = await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { username: `l${randomId()}`, currentPassword: user.password } });
    expect(res.status).toBe(200);
    expect(await accessLog(res.headers.get("X-Request-Id"))).toMatchObject({ method: "PATCH", status: 200, user_id: user.id });
  });

  it("long paths and user agents are cut to 512 characters", async () => {
    const res = await call("GET", `/v1/${"p".repeat(2000)}`, { headers: { "User-Agent": "u".repeat(2000) } });
    expect(res.status).toBe(404);
    const row = await accessLog(res.headers.get("X-Request-Id"));
    expect(row.path).toHaveLength(512);
    expect(row.user_agent).toHaveLength(512);
  });

  it("policy §3: a workspace file's name is not logged, only the endpoint it went to", async () => {
    const user = await createUser();
    const name = `secret-model-${randomId()}.safetensors`;
    for (const route of ["files", "tree"]) {
      const res = await call("GET", `/v1/workspace/${route}/data/${name}`, { ip: user.ip, token: user.accessToken });
      const row = await accessLog(res.headers.get("X-Request-Id"));
      expect(row).toMatchObject({ method: "GET", path: `/v1/workspace/${route}/{path}`, user_id: user.id });
    }
    expect((await accessLogLines()).filter((line) => line.path.includes(name))).toEqual([]);
  });

  it("a request with no client IP is still logged, without one", async () => {
    const request = new Request(`${BASE}/healthz`);
    const ctx = createExecutionContext();
    const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, testEnv(), ctx);
    await waitOnExecutionContext(ctx);
    expect(await accessLog(response.headers.get("X-Request-Id"))).toMatchObject({ ip: null, status: 200, path: "/healthz" });
  });
});

describe("error log rows", () => {
  it("an unexpected error is logged against the request id, without what the client sent", async () => {
    const user = await createUser();
    const res = await callWith({ ...testEnv(), DB: usersOutageDb }, "POST", "/v1/auth/login", { login: user.username, password: user.password });
    expectProblem(res, 500, "internal");
    const requestId = res.headers.get("X-Request-Id");
    const rows = await errorLogs(requestId);
    expect(rows).toHaveLength(1);
    // The route's template and the error's names: the failed statement's parameters (the
    // username tried) never reach the log.
    expect(rows[0]).toMatchObject({ source: "request", message: expect.stringMatching(/^POST \/v1\/auth\/login: \w+/) });
    expect(JSON.stringify(rows)).not.toContain(user.username);
    expect(JSON.stringify(rows)).not.toMatch(/params|select/i);
    expect(await accessLog(requestId)).toMatchObject({ status: 500, path: "/v1/auth/login" });
  });

  it("a configuration error is logged by name only", async () => {
    const { PASSWORD_PEPPER: pepper, ...withoutPepper } = testEnv();
    const password = `config test passphrase ${randomId()}`;
    const res = await callWith(withoutPepper as Cloudflare.Env, "POST", "/v1/auth/login", { login: `n${randomId()}`, password });
    expect(res.status).toBe(503);
    const rows = await errorLogs(res.headers.get("X-Request-Id"));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ code: "not_configured" });
    expect(String(rows[0]!.message)).toContain("PASSWORD_PEPPER");
    expect(JSON.stringify(rows)).not.toContain(pepper!);
    expect(JSON.stringify(rows)).not.toContain(password);
  });
});

describe("no secret reaches a log", () => {
  it("passwords and tokens sent through every auth and account route appear in no field of an access-log line or column of error_logs", async () => {
    const secrets: string[] = [];
    const keep = <T extends string>(value: T) => {
      secrets.push(value);
      return value;
    };

    const u = await signup({ password: keep(`first secret passphrase ${randomId()}`) });
    expect(u.res.status).toBe(202);
    const verifyToken = keep(tokenFromEmail(u.email, /Verify/));
    expect((await call("POST", "/v1/auth/verify-email", { ip: u.ip, body: { token: verifyToken } })).status).toBe(200);
    expect((await call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.username, password: keep(`wrong guess ${randomId()}`) } })).status).toBe(401);
    const login = await call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.email, password: u.password } });
    expect(login.status).toBe(200);
    const refreshed = await call("POST", "/v1/auth/refresh", { ip: u.ip, body: { refreshToken: keep(login.json.refreshToken) } });
    expect(refreshed.status).toBe(200);
    keep(login.json.accessToken);
    const accessToken = keep(refreshed.json.accessToken as string);
    keep(refreshed.json.refreshToken);
    // A replayed refresh token (reuse detection ends the sign-in, so the next call is refused) and a token in the query string.
    expect((await call("POST", "/v1/auth/refresh", { ip: u.ip, body: { refreshToken: login.json.refreshToken } })).status).toBe(401);
    expect((await call("GET", `/v1/account?refresh_token=${keep(`q${randomId()}${randomId()}`)}`, { ip: u.ip, token: accessToken })).status).toBe(401);

    const user = await createUser();
    keep(user.accessToken);
    keep(user.refreshToken);
    const secondPassword = keep(`second secret passphrase ${randomId()}`);
    const changed = await call("PUT", "/v1/account/password", {
      ip: user.ip,
      token: user.accessToken,
      body: { currentPassword: user.password, newPassword: secondPassword },
    });
    expect(changed.status).toBe(200);
    keep(changed.json.accessToken);
    keep(changed.json.refreshToken);
    const wrongCurrent = await call("PUT", "/v1/account/password", {
      ip: user.ip,
      token: changed.json.accessToken,
      body: { currentPassword: keep(`not the password ${randomId()}`), newPassword: keep(`third secret passphrase ${randomId()}`) },
    });
    expect(wrongCurrent.status).toBe(403);
    const weak = await call("PUT", "/v1/account/password", {
      ip: user.ip,
      token: changed.json.accessToken,
      body: { currentPassword: secondPassword, newPassword: keep(`sh${randomId().slice(0, 4)}`) },
    });
    expect(weak.status).toBe(400);

    const next = `moved-${randomId()}@example.com`;
    expect((await call("PATCH", "/v1/account", { ip: user.ip, token: changed.json.accessToken, body: { email: next, currentPassword: secondPassword } })).status).toBe(200);
    expect((await call("POST", "/v1/auth/verify-email", { ip: user.ip, body: { token: keep(tokenFromEmail(next, /Confirm/)) } })).status).toBe(200);

    expect((await call("POST", "/v1/auth/password-reset", { ip: user.ip, body: { email: next } })).status).toBe(202);
    const resetPassword = keep(`reset secret passphrase ${randomId()}`);
    const reset = await call("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token: keep(tokenFromEmail(next, /Reset/)), password: resetPassword } });
    expect(reset.status).toBe(204);
    const relogin = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password: resetPassword } });
    expect(relogin.status).toBe(200);
    keep(relogin.json.accessToken);
    expect((await call("DELETE", "/v1/account", { ip: user.ip, token: relogin.json.accessToken, body: { password: resetPassword } })).status).toBe(202);

    // Errors on the way: a validation failure echoing nothing, an outage and a missing secret.
    expect((await call("POST", "/v1/auth/signup", { body: { username: "!", email: "x", password: keep(`rejected secret ${randomId()}`) } })).status).toBe(400);
    const outage = await callWith({ ...testEnv(), DB: usersOutageDb }, "POST", "/v1/auth/login", { login: u.username, password: keep(`outage secret ${randomId()}`) });
    expect(outage.status).toBe(500);
    const { PASSWORD_PEPPER: _pepper, ...withoutPepper } = testEnv();
    const unconfigured = await callWith(withoutPepper as Cloudflare.Env, "POST", "/v1/auth/login", { login: u.username, password: keep(`unconfigured secret ${randomId()}`) });
    expect(unconfigured.status).toBe(503);

    const access = await accessLogLines();
    const errors = (await env.DB.prepare("SELECT * FROM error_logs").all()).results;
    expect(access.length).toBeGreaterThan(15);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    // Also the parts of each JWT (its signature alone is a secret-derived value).
    const parts = secrets.flatMap((s) => (s.split(".").length === 3 ? s.split(".").filter((p) => p.length > 20) : []));
    for (const row of [...access, ...errors] as Record<string, unknown>[]) {
      for (const [column, value] of Object.entries(row)) {
        if (value === null) continue;
        for (const secret of [...secrets, ...parts]) expect(String(value), `column ${column}`).not.toContain(secret);
      }
    }
  });
});
