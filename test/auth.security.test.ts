/**
 * /v1/auth/* — security properties: no account enumeration (signup, login, reset), refresh-token
 * reuse detection, tokens and passwords stored only as hashes, per-IP and per-account rate limits,
 * and no cookies on any response.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { SIGN_IN_CACHE_MS } from "../workers/domain/accounts/sign-ins";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../workers/index";
import { accessLogLines, awayFromWindowEdge, BASE, call, type CallOptions, createUser, expectProblem, outbox, POLICY_VERSION, randomId, randomIp, signup, type TestUser, testEnv, tokenFromEmail } from "./harness";

type Res = Awaited<ReturnType<typeof call>>;

/** Every request in this file goes through here: no response may set a cookie (policy §8). */
async function req(method: string, path: string, options: CallOptions = {}): Promise<Res> {
  const res = await call(method, path, options);
  expect(res.headers.get("set-cookie"), `${method} ${path} set a cookie`).toBeNull();
  return res;
}

const newEmail = () => `user-${randomId()}@example.com`;
const mailsTo = (to: string) => outbox.filter((m) => m.to === to);
const withoutRequestId = (json: Record<string, unknown>) => {
  const { requestId: _, ...rest } = json;
  return rest;
};

async function signupChecked(overrides: Parameters<typeof signup>[0] = {}) {
  const u = await signup(overrides);
  expect(u.res.headers.get("set-cookie")).toBeNull();
  return u;
}

interface User {
  username: string;
  email: string;
  password: string;
  ip: string;
  accessToken: string;
  refreshToken: string;
  verifyToken: string;
}

/** Like the harness's createUser, but every response is checked for cookies. */
async function newUser(): Promise<User> {
  const u = await signupChecked();
  expect(u.res.status).toBe(202);
  const verifyToken = tokenFromEmail(u.email, /Verify/);
  expect((await req("POST", "/v1/auth/verify-email", { ip: u.ip, body: { token: verifyToken } })).status).toBe(200);
  const login = await req("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.username, password: u.password } });
  expect(login.status).toBe(200);
  return { username: u.username, email: u.email, password: u.password, ip: u.ip, accessToken: login.json.accessToken, refreshToken: login.json.refreshToken, verifyToken };
}

/**
 * Miniflare's limiter counts in windows aligned to the wall clock; a burst that straddles a
 * window edge would be split over two counters. Start bursts well inside a window.
 */
const sha256Hex = async (text: string) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)))].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Every row of every application table, as one string per table. */
async function dumpAllTables(): Promise<Map<string, string>> {
  const tables = await env.DB.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%'").all<{ name: string }>();
  const dump = new Map<string, string>();
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`select * from "${name}"`).all();
    dump.set(name, JSON.stringify(rows.results));
  }
  return dump;
}

describe("no account enumeration", () => {
  it("signup with an existing address answers exactly like a fresh signup, and tells the owner by email", async () => {
    const owner = await newUser();
    const mailsBefore = mailsTo(owner.email).length;

    const fresh = await signupChecked();
    const duplicate = await signupChecked({ email: owner.email });
    expect(duplicate.res.status).toBe(fresh.res.status);
    expect(duplicate.res.status).toBe(202);
    expect(duplicate.res.json).toEqual(fresh.res.json);
    expect(duplicate.res.text).toBe(fresh.res.text);
    expect(duplicate.res.headers.get("Content-Type")).toBe(fresh.res.headers.get("Content-Type"));

    // The owner learns of it; no verification link goes out for the address.
    const mails = mailsTo(owner.email).slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/Someone tried to sign up/);
    expect(mails[0]!.subject).not.toMatch(/Verify/);
    expect(mails[0]!.text).not.toMatch(/#token=/);

    // No second account: the duplicate's username was not taken.
    const rows = await env.DB.prepare("select username from users where email = ? or username = ?").bind(owner.email, duplicate.username).all();
    expect(rows.results).toEqual([{ username: owner.username }]);
  });

  it("the existing address in another case is the same address", async () => {
    const owner = await newUser();
    const fresh = await signupChecked();
    const duplicate = await signupChecked({ email: owner.email.toUpperCase() });
    expect(duplicate.res.status).toBe(fresh.res.status);
    expect(duplicate.res.json).toEqual(fresh.res.json);
    expect(mailsTo(owner.email).at(-1)!.subject).toMatch(/Someone tried to sign up/);
    expect((await env.DB.prepare("select count(*) as n from users where lower(email) = ?").bind(owner.email).first<{ n: number }>())!.n).toBe(1);
  });

  it("signup with a taken username answers exactly like a fresh signup", async () => {
    const owner = await newUser();
    const fresh = await signupChecked();
    const taken = await signupChecked({ username: owner.username });
    expect(taken.res.status).toBe(fresh.res.status);
    expect(taken.res.json).toEqual(fresh.res.json);
    expect(taken.res.text).toBe(fresh.res.text);

    // The new address is told by email (not with a verification link); nothing is created.
    const mails = mailsTo(taken.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).not.toMatch(/Verify/);
    expect(mails[0]!.text).not.toMatch(/#token=/);
    expect((await env.DB.prepare("select count(*) as n from users where email = ?").bind(taken.email).first<{ n: number }>())!.n).toBe(0);
    // The owner is not disturbed.
    expect(mailsTo(owner.email).every((m) => /Verify/.test(m.subject))).toBe(true);
  });

  it("login: an unknown user and a wrong password get the same status and body", async () => {
    const user = await newUser();
    const unknownName = await req("POST", "/v1/auth/login", { body: { login: `nobody${randomId()}`, password: user.password } });
    const unknownEmail = await req("POST", "/v1/auth/login", { body: { login: newEmail(), password: user.password } });
    const wrongByName = await req("POST", "/v1/auth/login", { body: { login: user.username, password: `${user.password}x` } });
    const wrongByEmail = await req("POST", "/v1/auth/login", { body: { login: user.email, password: `${user.password}x` } });

    for (const res of [unknownName, unknownEmail, wrongByName, wrongByEmail]) {
      expectProblem(res, 401, "invalid_credentials");
      expect(withoutRequestId(res.json)).toEqual(withoutRequestId(wrongByName.json));
      expect(res.headers.get("Content-Type")).toBe(wrongByName.headers.get("Content-Type"));
      expect(res.headers.get("WWW-Authenticate")).toBe(wrongByName.headers.get("WWW-Authenticate"));
    }
    expect(unknownName.json.requestId).not.toBe(wrongByName.json.requestId);
  });

  it("password reset: an unknown and a known address get the same status and body; only the known one gets email", async () => {
    const user = await newUser();
    const unknown = newEmail();
    const mailsBefore = mailsTo(user.email).length;

    const forUnknown = await req("POST", "/v1/auth/password-reset", { body: { email: unknown } });
    const forKnown = await req("POST", "/v1/auth/password-reset", { body: { email: user.email } });
    expect(forUnknown.status).toBe(202);
    expect(forKnown.status).toBe(forUnknown.status);
    expect(forKnown.json).toEqual(forUnknown.json);
    expect(forKnown.text).toBe(forUnknown.text);

    expect(mailsTo(unknown)).toHaveLength(0);
    const mails = mailsTo(user.email).slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/Reset/);
  });
});

describe("refresh token reuse", () => {
  it("presenting a used refresh token revokes the whole sign-in", async () => {
    const user = await newUser();
    const other = await req("POST", "/v1/auth/login", { body: { login: user.username, password: user.password } });
    expect(other.status).toBe(200);

    const tokenA = user.refreshToken;
    const rotated = await req("POST", "/v1/auth/refresh", { body: { refreshToken: tokenA } });
    expect(rotated.status, rotated.text).toBe(200);
    const tokenB = rotated.json.refreshToken;
    expect(tokenB).not.toBe(tokenA);

    // A again: reuse.
    expectProblem(await req("POST", "/v1/auth/refresh", { body: { refreshToken: tokenA } }), 401, "unauthorized");
    // The family is revoked: B, unused so far, no longer works…
    expectProblem(await req("POST", "/v1/auth/refresh", { body: { refreshToken: tokenB } }), 401, "unauthorized");
    // …nor do the access tokens of that sign-in, old or new.
    expectProblem(await req("GET", "/v1/account", { token: user.accessToken }), 401, "unauthorized");
    expectProblem(await req("GET", "/v1/account", { token: rotated.json.accessToken }), 401, "unauthorized");

    // Another sign-in of the same account is not affected.
    expect((await req("GET", "/v1/account", { token: other.json.accessToken })).status).toBe(200);

    const me = await env.DB.prepare("select id from users where username = ?").bind(user.username).first<{ id: string }>();
    const sessions = await env.DB.prepare("select revoked_reason from login_sessions where user_id = ? order by created_at").bind(me!.id).all();
    expect(sessions.results).toEqual([{ revoked_reason: "refresh_token_reuse" }, { revoked_reason: null }]);
    const events = await env.DB.prepare("select count(*) as n from account_events where user_id = ? and type = 'refresh_reuse_detected'").bind(me!.id).first<{ n: number }>();
    expect(events!.n).toBe(1);
  });

  it("reusing the latest token after a chain of rotations revokes too", async () => {
    const user = await newUser();
    let token = user.refreshToken;
    const used: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await req("POST", "/v1/auth/refresh", { body: { refreshToken: token } });
      expect(res.status).toBe(200);
      used.push(token);
      token = res.json.refreshToken;
    }
    expectProblem(await req("POST", "/v1/auth/refresh", { body: { refreshToken: used[1]! } }), 401, "unauthorized");
    expectProblem(await req("POST", "/v1/auth/refresh", { body: { refreshToken: token } }), 401, "unauthorized");
  });
});

describe("stored only as hashes", () => {
  it("refresh, verification and reset tokens never appear in clear; passwords are bcrypt (cost ≥ 10) and appear nowhere", async () => {
    const user = await newUser();
    const rotated = await req("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);
    expect((await req("POST", "/v1/auth/password-reset", { body: { email: user.email } })).status).toBe(202);
    const resetToken = tokenFromEmail(user.email, /Reset/);

    // A second user whose reset is completed: the new password must not be stored either.
    const second = await newUser();
    expect((await req("POST", "/v1/auth/password-reset", { body: { email: second.email } })).status).toBe(202);
    const secondReset = tokenFromEmail(second.email, /Reset/);
    const newPassword = `brand new ${randomId()} secret`;
    expect((await req("POST", "/v1/auth/password-reset/confirm", { body: { token: secondReset, password: newPassword } })).status).toBe(204);

    const tokens = {
      verify: user.verifyToken,
      refresh: user.refreshToken,
      rotatedRefresh: rotated.json.refreshToken as string,
      reset: resetToken,
      secondVerify: second.verifyToken,
      secondRefresh: second.refreshToken,
      secondReset,
    };

    // The token tables hold the SHA-256 of each token, never the token.
    const single = JSON.stringify((await env.DB.prepare("select * from single_use_tokens").all()).results);
    const refresh = JSON.stringify((await env.DB.prepare("select * from refresh_tokens").all()).results);
    for (const [name, token] of Object.entries(tokens)) {
      expect(single, `${name} in single_use_tokens`).not.toContain(token);
      expect(refresh, `${name} in refresh_tokens`).not.toContain(token);
    }
    for (const token of [tokens.verify, tokens.reset, tokens.secondVerify, tokens.secondReset]) expect(single).toContain(await sha256Hex(token));
    for (const token of [tokens.refresh, tokens.rotatedRefresh, tokens.secondRefresh]) expect(refresh).toContain(await sha256Hex(token));

    // Nothing secret anywhere in the database: no token, no password, no access token.
    const secrets = { ...tokens, password: user.password, secondOldPassword: second.password, secondNewPassword: newPassword, accessToken: user.accessToken };
    const dump = await dumpAllTables();
    expect([...dump.keys()]).toEqual(expect.arrayContaining(["users", "single_use_tokens", "refresh_tokens", "login_sessions", "account_events", "access_log_objects"]));
    for (const [table, rows] of dump) {
      for (const [name, secret] of Object.entries(secrets)) expect(rows.includes(secret), `${name} found in table ${table}`).toBe(false);
    }
    // Nor in the access-log lines, which live in R2.
    const lines = JSON.stringify(await accessLogLines());
    expect(lines).toContain("/v1/auth/refresh");
    for (const [name, secret] of Object.entries(secrets)) expect(lines.includes(secret), `${name} found in the access log`).toBe(false);

    // bcrypt, cost ≥ 10, one distinct salt per account.
    const hashes = await env.DB.prepare("select password_hash from users where username in (?, ?)").bind(user.username, second.username).all<{ password_hash: string }>();
    expect(hashes.results).toHaveLength(2);
    for (const { password_hash } of hashes.results) {
      const match = /^\$2[aby]?\$(\d{2})\$[./A-Za-z0-9]{53}$/.exec(password_hash);
      expect(match, password_hash.slice(0, 7)).not.toBeNull();
      expect(Number(match![1])).toBeGreaterThanOrEqual(10);
    }
    expect(hashes.results[0]!.password_hash.slice(7, 29)).not.toBe(hashes.results[1]!.password_hash.slice(7, 29));
  });

  it("the same password gets a different hash for each account", async () => {
    const a = await newUser();
    const b = await newUser();
    expect(a.password).toBe(b.password);
    const rows = await env.DB.prepare("select password_hash from users where username in (?, ?)").bind(a.username, b.username).all<{ password_hash: string }>();
    expect(rows.results).toHaveLength(2);
    expect(rows.results[0]!.password_hash).not.toBe(rows.results[1]!.password_hash);
  });
});

describe("rate limits", () => {
  it("per IP: the 31st auth request in a minute from one address gets 429 with Retry-After", async () => {
    await awayFromWindowEdge();
    const ip = randomIp();
    const results: Res[] = [];
    for (let i = 0; i < 35; i++) {
      results.push(await req("POST", "/v1/auth/login", { ip, body: { login: `nobody${randomId()}`, password: `wrong ${randomId()} pw` } }));
    }
    const statuses = results.map((r) => r.status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual(Array(5).fill(429));
    const limited = results[30]!;
    expectProblem(limited, 429, "rate_limited");
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);

    // The limit is per address: another address is still served, and the limited one is refused
    // on the other auth routes too.
    expectProblem(await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login: `nobody${randomId()}`, password: "wrong password" } }), 401, "invalid_credentials");
    expectProblem(await req("POST", "/v1/auth/password-reset", { ip, body: { email: newEmail() } }), 429, "rate_limited");
    expectProblem(await req("POST", "/v1/auth/signup", { ip, body: { username: `u${randomId()}`, email: newEmail(), password: "whatever it takes 9", policyVersion: POLICY_VERSION, ageConfirmed: true } }), 429, "rate_limited");
  });

  it("per IP: IPv6 clients are limited by their /64, so walking addresses in it gives no fresh budget", async () => {
    await awayFromWindowEdge();
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      // Each request from another address of the prefix, in full, compressed and upper-case forms.
      const ip = i % 2 === 0 ? `${prefix}:0:0:0:${(i + 1).toString(16)}` : `${prefix.toUpperCase()}::${(i + 1).toString(16)}`;
      statuses.push((await req("POST", "/v1/auth/login", { ip, body: { login: `nobody${randomId()}`, password: `wrong ${randomId()} pw` } })).status);
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401));
    expect(statuses.slice(30)).toEqual([429, 429]);
    // The next /64 is another client.
    const other = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:ffff::1`;
    expectProblem(await req("POST", "/v1/auth/login", { ip: other, body: { login: `nobody${randomId()}`, password: "wrong password" } }), 401, "invalid_credentials");
  });

  it("per account: the 11th login attempt on one username in a minute gets 429, whatever the IP", async () => {
    // Signed up (that counts against the address) but never signed in: the username's budget is whole.
    await awayFromWindowEdge();
    const user = await signupChecked();
    expect(user.res.status).toBe(202);
    const results: Res[] = [];
    for (let i = 0; i < 12; i++) {
      results.push(await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login: user.username, password: `wrong ${i} password` } }));
    }
    const statuses = results.map((r) => r.status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    expectProblem(results[10]!, 429, "rate_limited");
    expect(results[10]!.headers.get("Retry-After")).toMatch(/^\d+$/);

    // While limited, even the right password is refused (no oracle), from a fresh IP.
    expectProblem(await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login: user.username, password: user.password } }), 429, "rate_limited");
    // Other accounts are not affected.
    const other = await signupChecked();
    expect((await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login: other.username, password: other.password } })).status).toBe(200);
  });

  it("per account: upper-casing the username does not get a fresh budget", async () => {
    await awayFromWindowEdge();
    const user = await signupChecked();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const login = i % 2 === 0 ? user.username : ` ${user.username.toUpperCase()} `;
      statuses.push((await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login, password: `wrong ${i} password` } })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it("per account: signing in by username and by email address share one budget", async () => {
    await awayFromWindowEdge();
    const user = await signupChecked();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const login = i % 2 === 0 ? user.username : user.email.toUpperCase();
      statuses.push((await req("POST", "/v1/auth/login", { ip: randomIp(), body: { login, password: `wrong ${i} password` } })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it("per IP: malformed requests count too (the limit runs before validation)", async () => {
    await awayFromWindowEdge();
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) statuses.push((await req("POST", "/v1/auth/login", { ip, body: { nope: i } })).status);
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(400));
    expect(statuses.slice(30)).toEqual([429, 429]);
  });

  it("per account: password reset requests for one address are limited (signup counts against the address too)", async () => {
    await awayFromWindowEdge();
    const user = await signupChecked();
    expect(user.res.status).toBe(202);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await req("POST", "/v1/auth/password-reset", { ip: randomIp(), body: { email: user.email } })).status);
    // The signup was the first of ten.
    expect(statuses.slice(0, 9)).toEqual(Array(9).fill(202));
    expect(statuses.slice(9)).toEqual([429, 429]);
    // Nine reset emails, not eleven.
    expect(mailsTo(user.email).filter((m) => /Reset/.test(m.subject))).toHaveLength(9);
  });
});

describe("no cookies", () => {
  it("no auth route sets a cookie, even when the client sends one", async () => {
    const user = await newUser();
    const headers = { Cookie: "session=abc" };
    await req("POST", "/v1/auth/login", { headers, body: { login: user.username, password: user.password } });
    await req("POST", "/v1/auth/login", { headers, body: { login: user.username, password: "wrong password" } });
    await req("POST", "/v1/auth/refresh", { headers, body: { refreshToken: user.refreshToken } });
    await req("POST", "/v1/auth/password-reset", { headers, body: { email: user.email } });
    await req("POST", "/v1/auth/verify-email", { headers, body: { token: "x" } });
    await req("POST", "/v1/auth/signup", { headers: { ...headers, "Content-Type": "application/json" }, rawBody: "{" });
    await req("GET", "/v1/auth/login", { headers });
    await req("OPTIONS", "/v1/auth/login", { headers: { ...headers, Origin: "https://ozekai.test", "Access-Control-Request-Method": "POST" } });
    // A cookie is never an access token.
    const me = await req("GET", "/v1/account", { headers: { Cookie: `token=${user.accessToken}` } });
    expectProblem(me, 401, "unauthorized");
  });
});

/**
 * A database whose writes (`run`, `batch`) wait at a gate: a route that awaits a write cannot
 * answer while the gate is shut. The gate opens when the answer comes, or, so a route that does
 * wait cannot hang the test, a while after the first write reached it.
 */
function gatedDb() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let answeredWhileShut = false;
  let shut = true;
  const release = () => {
    shut = false;
    open();
  };
  const held = async <T>(write: () => Promise<T>) => {
    setTimeout(release, 10_000);
    await gate;
    return write();
  };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, key) {
        if (key === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        if (key === "run") return () => held(() => target.run());
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = {
    prepare: (query: string) => wrap(env.DB.prepare(query)),
    batch: (statements: D1PreparedStatement[]) => held(() => env.DB.batch(statements)),
    exec: (query: string) => env.DB.exec(query),
  } as unknown as D1Database;
  return {
    db,
    answered() {
      answeredWhileShut = shut;
      release();
    },
    get answeredWhileShut() {
      return answeredWhileShut;
    },
  };
}

/** Sends one request over `db`, and waits for what runs after the answer too. */
async function callOver(db: ReturnType<typeof gatedDb>, path: string, body: unknown) {
  const ctx = createExecutionContext();
  const request = new Request(`${BASE}${path}`, { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp() }, body: JSON.stringify(body) });
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, { ...testEnv(), DB: db.db }, ctx);
  db.answered();
  await waitOnExecutionContext(ctx);
  return response.status;
}

describe("timing: no answer waits on a write that only an existing account causes", () => {
  it.each([
    ["a failed login of an existing account", async (u: User) => ["/v1/auth/login", { login: u.username, password: `wrong ${randomId()} pw` }, 401] as const],
    ["a failed login of an unknown name", async () => ["/v1/auth/login", { login: `nobody${randomId()}`, password: `wrong ${randomId()} pw` }, 401] as const],
    ["a reset for an existing address", async (u: User) => ["/v1/auth/password-reset", { email: u.email }, 202] as const],
    ["a reset for an unknown address", async () => ["/v1/auth/password-reset", { email: newEmail() }, 202] as const],
    [
      "a signup with a new address",
      async () => ["/v1/auth/signup", { username: `u${randomId()}`, email: newEmail(), password: "whatever it takes 9", policyVersion: POLICY_VERSION, ageConfirmed: true }, 202] as const,
    ],
    [
      "a signup with a taken address",
      async (u: User) => ["/v1/auth/signup", { username: `u${randomId()}`, email: u.email, password: "whatever it takes 9", policyVersion: POLICY_VERSION, ageConfirmed: true }, 202] as const,
    ],
  ])("%s is answered before any write completes", async (_case, make) => {
    const user = await newUser();
    const [path, body, status] = await make(user);
    const db = gatedDb();
    expect(await callOver(db, path, body)).toBe(status);
    expect(db.answeredWhileShut).toBe(true);
  });

  it("the writes still happen after the answer: the reset link arrives and the failed login is audited", async () => {
    const user = await newUser();
    expect(await callOver(gatedDb(), "/v1/auth/login", { login: user.username, password: `wrong ${randomId()} pw` })).toBe(401);
    expect(await callOver(gatedDb(), "/v1/auth/password-reset", { email: user.email })).toBe(202);
    const reset = tokenFromEmail(user.email, /Reset your password/);
    expect((await req("POST", "/v1/auth/password-reset/confirm", { ip: user.ip, body: { token: reset, password: `a new passphrase ${randomId()}` } })).status).toBe(204);
    const id = (await env.DB.prepare("select id from users where username = ?").bind(user.username).first<{ id: string }>())!.id;
    const types = (await env.DB.prepare("select type from account_events where user_id = ?").bind(id).all<{ type: string }>()).results.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["login_failed", "password_reset_requested", "password_reset"]));
  });
});

describe("a verified sign-in is remembered for a few seconds, and a revocation still ends it", () => {
  const me = (token: string, ip: string) => call("GET", "/v1/account", { ip, token });

  it("a revocation made elsewhere (another isolate, straight in D1) ends a remembered sign-in within SIGN_IN_CACHE_MS", async () => {
    const user = await createUser();
    expect((await me(user.accessToken, user.ip)).status).toBe(200);
    await env.DB.prepare("update login_sessions set revoked_at = ?, revoked_reason = 'test' where user_id = ?").bind(Date.now(), user.id).run();
    vi.useFakeTimers({ now: Date.now() + SIGN_IN_CACHE_MS + 1, toFake: ["Date"] });
    try {
      expectProblem(await me(user.accessToken, user.ip), 401, "unauthorized");
    } finally {
      vi.useRealTimers();
    }
  });

  it("a token verified a moment ago (remembered in this isolate) is still refused once it expires", async () => {
    const user = await createUser();
    expect((await me(user.accessToken, user.ip)).status).toBe(200);
    const { exp } = JSON.parse(atob(user.accessToken.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as { exp: number };
    vi.useFakeTimers({ now: exp * 1000, toFake: ["Date"] });
    try {
      const res = await me(user.accessToken, user.ip);
      expectProblem(res, 401, "unauthorized");
      expect(res.json.detail).toMatch(/expired/);
    } finally {
      vi.useRealTimers();
    }
  });

  it("an account deleted straight in D1 is refused after the same window", async () => {
    const user = await createUser();
    expect((await me(user.accessToken, user.ip)).status).toBe(200);
    await env.DB.prepare("update users set deleted_at = ? where id = ?").bind(Date.now(), user.id).run();
    vi.useFakeTimers({ now: Date.now() + SIGN_IN_CACHE_MS + 1, toFake: ["Date"] });
    try {
      expectProblem(await me(user.accessToken, user.ip), 401, "unauthorized");
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    ["logout", (u: TestUser) => call("POST", "/v1/auth/logout", { ip: u.ip, token: u.accessToken })],
    ["a password change", (u: TestUser) => call("PUT", "/v1/account/password", { ip: u.ip, token: u.accessToken, body: { currentPassword: u.password, newPassword: `${u.password}-new-${randomId()}` } })],
    ["account deletion", (u: TestUser) => call("DELETE", "/v1/account", { ip: u.ip, token: u.accessToken, body: { password: u.password } })],
  ])("%s here ends every remembered sign-in at once, the one just used included", async (_case, revoke) => {
    const user = await createUser();
    const other = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password: user.password } });
    expect(other.status).toBe(200);
    // Both sign-ins are remembered now.
    expect((await me(user.accessToken, user.ip)).status).toBe(200);
    expect((await me(other.json.accessToken, user.ip)).status).toBe(200);
    const res = await revoke(user);
    expect(res.status, res.text).toBeLessThan(300);
    expectProblem(await me(user.accessToken, user.ip), 401, "unauthorized");
    if (_case !== "logout") expectProblem(await me(other.json.accessToken, user.ip), 401, "unauthorized");
    else expect((await me(other.json.accessToken, user.ip)).status).toBe(200);
  });
});
