/**
 * One shared suite of auth attacks, run against every protected route. The route list comes from
 * the app's own OpenAPI document (operations with a `security` requirement), so a new protected
 * route is attacked without anyone editing this file.
 */
import { env } from "cloudflare:workers";
import { base64url } from "@scure/base";
import { type CryptoKey, decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../workers/api";
import { call, createUser, expectProblem, GOOD_PASSWORD, randomId, type TestUser } from "./harness";
import { SSH_KEYS } from "./ssh-key-fixtures";

interface Operation {
  security?: unknown[];
  requestBody?: unknown;
}

const doc = api.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
const operations = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, Operation>).map(([method, op]) => ({
    method: method.toUpperCase(),
    // Path parameters get a random id: authentication must fail before the resource is looked up.
    path: path.replace(/\{[^}]+\}/g, () => crypto.randomUUID()),
    template: path,
    hasBody: op.requestBody !== undefined,
    isProtected: (op.security?.length ?? 0) > 0,
  })),
);
const protectedOps = operations.filter((op) => op.isProtected);

/** The only operations anyone may call without a token; a new public route must be added here on purpose. */
const PUBLIC_OPERATIONS = [
  "GET /healthz",
  "GET /v1/policy",
  "GET /privacy",
  "POST /v1/auth/signup",
  "POST /v1/auth/verify-email",
  "POST /v1/auth/revert-email",
  "POST /v1/auth/login",
  "POST /v1/auth/refresh",
  "POST /v1/auth/password-reset",
  "POST /v1/auth/password-reset/confirm",
  "GET /v1/plans",
  "GET /v1/images",
];

/** A body the route would accept from the victim, so a broken check would show as a success, not a 400. */
function validBody(op: (typeof protectedOps)[number], victim: TestUser): unknown {
  if (!op.hasBody) return undefined;
  const key = `${op.method} ${op.template}`;
  if (key === "PATCH /v1/account") return { username: `hijacked${randomId()}`, currentPassword: victim.password };
  if (key === "DELETE /v1/account") return { password: victim.password };
  if (key === "PUT /v1/account/password") return { currentPassword: victim.password, newPassword: `attacker chosen passphrase ${randomId()}` };
  if (key === "POST /v1/account/ssh-keys") return { publicKey: SSH_KEYS.ed25519.line };
  return {};
}

// --- Forged tokens -------------------------------------------------------------------------

const encodeJson = (value: unknown) => base64url.encode(new TextEncoder().encode(JSON.stringify(value))).replace(/=+$/, "");

const realJwk = () => (JSON.parse(env.ACCESS_TOKEN_KEYS!) as JWK[])[0]!;
const realKey = async () => (await importJWK(realJwk(), "EdDSA")) as CryptoKey;

const now = () => Math.floor(Date.now() / 1000);

/** The claims the API puts in its own access tokens, for the victim's live sign-in. */
function claimsOf(victim: TestUser): JWTPayload {
  const { sub, sid } = decodeJwt(victim.accessToken);
  return { iss: env.API_ISSUER, aud: env.API_AUDIENCE, sub, sid, jti: crypto.randomUUID(), iat: now() - 5, exp: now() + 600 };
}

function sign(payload: JWTPayload, key: CryptoKey | Uint8Array, header: { alg: string; kid?: string; typ?: string } = { alg: "EdDSA", kid: "test-1" }) {
  return new SignJWT(payload).setProtectedHeader({ typ: "at+jwt", ...header }).sign(key);
}

/** Minted with the API's real key: only the given claims differ from a genuine token. */
const signReal = async (victim: TestUser, overrides: JWTPayload = {}) => sign({ ...claimsOf(victim), ...overrides }, await realKey());

const withoutKey = <T extends object>(o: T, key: keyof T) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

/** A second sign-in of the same account. */
async function login(user: TestUser, password = user.password) {
  const res = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password } });
  expect(res.status, res.text).toBe(200);
  return res.json as { accessToken: string; refreshToken: string };
}

type Credential = { authorization?: string };
const bearer = (token: string): Credential => ({ authorization: `Bearer ${token}` });

const ATTACKS: [string, (victim: TestUser) => Promise<Credential>][] = [
  ["no Authorization header", async () => ({})],
  ["an empty bearer token", async () => ({ authorization: "Bearer " })],
  ["Bearer garbage", async () => bearer("garbage")],
  ["a malformed JWT (a.b.c)", async () => bearer("a.b.c")],
  ["another auth scheme (Basic)", async (v) => ({ authorization: `Basic ${btoa(`${v.username}:${v.password}`)}` })],
  ["the token without the Bearer scheme", async (v) => ({ authorization: v.accessToken })],
  ["the refresh token used as an access token", async (v) => bearer(v.refreshToken)],
  [
    "a wrong signature (fresh Ed25519 key, same kid)",
    async (v) => {
      const { privateKey } = await generateKeyPair("EdDSA");
      return bearer(await sign(claimsOf(v), privateKey));
    },
  ],
  [
    "alg: none (unsigned)",
    async (v) => bearer(`${encodeJson({ alg: "none", kid: "test-1", typ: "at+jwt" })}.${encodeJson(claimsOf(v))}.`),
  ],
  [
    "a genuine token with its signature stripped",
    async (v) => bearer(`${v.accessToken.split(".").slice(0, 2).join(".")}.`),
  ],
  [
    "a genuine token with a tampered payload (sub of another account)",
    async (v) => {
      const [header, , signature] = v.accessToken.split(".");
      return bearer(`${header}.${encodeJson({ ...decodeJwt(v.accessToken), sub: crypto.randomUUID() })}.${signature}`);
    },
  ],
  ["HS256 signed with a guessed secret", async (v) => bearer(await sign(claimsOf(v), new TextEncoder().encode("secret"), { alg: "HS256", kid: "test-1" }))],
  [
    "HS256 keyed with the public key (algorithm confusion)",
    async (v) => {
      const publicJwk = await exportJWK(await importJWK({ kty: "OKP", crv: "Ed25519", x: realJwk().x!, alg: "EdDSA" }, "EdDSA"));
      return bearer(await sign(claimsOf(v), new TextEncoder().encode(JSON.stringify(publicJwk)), { alg: "HS256", kid: "test-1" }));
    },
  ],
  ["a real-key token with an unknown kid", async (v) => bearer(await sign(claimsOf(v), await realKey(), { alg: "EdDSA", kid: "test-2" }))],
  ["a real-key token of another type (typ JWT, not at+jwt: RFC 9068)", async (v) => bearer(await sign(claimsOf(v), await realKey(), { alg: "EdDSA", kid: "test-1", typ: "JWT" }))],
  ["a real-key token without kid", async (v) => bearer(await sign(claimsOf(v), await realKey(), { alg: "EdDSA" }))],
  ["an expired token", async (v) => bearer(await signReal(v, { iat: now() - 900, exp: now() - 30 }))],
  ["a token issued long ago with a far expiry (lifetime > 1 h)", async (v) => bearer(await signReal(v, { iat: now() - 7200, exp: now() + 3600 }))],
  ["a token without exp", async (v) => bearer(await sign(withoutKey(claimsOf(v), "exp"), await realKey()))],
  ["a wrong audience", async (v) => bearer(await signReal(v, { aud: "someone-else" }))],
  ["a wrong issuer", async (v) => bearer(await signReal(v, { iss: "https://evil.example" }))],
  ["a token without sid", async (v) => bearer(await sign(withoutKey(claimsOf(v), "sid"), await realKey()))],
  ["a sid that is no sign-in", async (v) => bearer(await signReal(v, { sid: crypto.randomUUID() }))],
  [
    "the sid of one account with the sub of another",
    async (v) => {
      const other = await createUser();
      return bearer(await signReal(v, { sub: other.id }));
    },
  ],
  [
    "a token revoked by logout",
    async () => {
      const user = await createUser();
      const res = await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken });
      expect(res.status, res.text).toBe(204);
      return bearer(user.accessToken);
    },
  ],
  [
    "a token revoked by a password change from another sign-in",
    async () => {
      const user = await createUser();
      const other = await login(user);
      const res = await call("PUT", "/v1/account/password", {
        ip: user.ip,
        token: other.accessToken,
        body: { currentPassword: user.password, newPassword: `a brand new passphrase ${randomId()}` },
      });
      expect(res.status, res.text).toBe(200);
      return bearer(user.accessToken);
    },
  ],
  [
    "a token of a deleted account",
    async () => {
      const user = await createUser();
      const other = await login(user);
      const res = await call("DELETE", "/v1/account", { ip: user.ip, token: other.accessToken, body: { password: user.password } });
      expect(res.status, res.text).toBe(202);
      return bearer(user.accessToken);
    },
  ],
];

function expectUnauthorized(res: Awaited<ReturnType<typeof call>>) {
  expectProblem(res, 401, "unauthorized");
  expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer realm="ozekai"/);
}

describe("the attacked route list comes from the app", () => {
  it("finds the protected routes in the OpenAPI document", () => {
    expect(protectedOps.map((op) => `${op.method} ${op.template}`)).toEqual(
      expect.arrayContaining(["POST /v1/auth/logout", "GET /v1/account", "PATCH /v1/account", "DELETE /v1/account", "PUT /v1/account/password"]),
    );
  });

  it("every operation without a security requirement is a known public one", () => {
    const open = operations.filter((op) => !op.isProtected).map((op) => `${op.method} ${op.template}`);
    expect(open.sort()).toEqual([...PUBLIC_OPERATIONS].sort());
  });

  it("every route the app serves is in the OpenAPI document (so this suite sees it)", () => {
    const documented = new Set(operations.map((op) => `${op.method} ${op.template.replace(/\{([^}]+)\}/g, ":$1")}`));
    // A parameter's pattern (`:path{.+}`: a file path spans segments) is not part of its name.
    const served = new Set(api.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/\{[^}]*\}/g, "")}`));
    const undocumented = [...served].filter((route) => !documented.has(route));
    // The Stripe webhook is not a client API: Stripe's signature authenticates it (test/billing.webhooks.test.ts).
    expect(undocumented.sort()).toEqual(["GET /docs", "GET /openapi.json", "POST /webhooks/stripe"]);
  });

  it("a token minted like the attacks, but correctly, is accepted (the forgeries below differ in one thing only)", async () => {
    const victim = await createUser();
    const res = await call("GET", "/v1/account", { ip: victim.ip, token: await signReal(victim) });
    expect(res.status, res.text).toBe(200);
    expect(res.json.id).toBe(victim.id);
  });
});

describe.each(protectedOps)("$method $path rejects", (op) => {
  let victim: TestUser;
  beforeAll(async () => {
    victim = await createUser();
  });

  it.each(ATTACKS)("%s with 401 unauthorized", async (_name, attack) => {
    const credential = await attack(victim);
    const res = await call(op.method, op.path, {
      ip: victim.ip,
      body: validBody(op, victim),
      headers: credential.authorization === undefined ? {} : { Authorization: credential.authorization },
    });
    expectUnauthorized(res);
    expect(res.text).not.toContain(victim.username);
    expect(res.text).not.toContain(victim.email);
  });

  if (op.hasBody) it("an invalid body without a token with 401 (authentication comes before validation)", async () => {
    const res = await call(op.method, op.path, { ip: victim.ip, body: { unexpected: true } });
    expectUnauthorized(res);
    expect(res.json.errors).toBeUndefined();
  });

  it("and the victim's account is untouched afterwards", async () => {
    const me = await call("GET", "/v1/account", { ip: victim.ip, token: victim.accessToken });
    expect(me.status, me.text).toBe(200);
    expect(me.json).toMatchObject({ id: victim.id, username: victim.username, email: victim.email });
    await login(victim, GOOD_PASSWORD);
  });
});

describe("someone else's resource", () => {
  it("GET /v1/account returns only the caller's account", async () => {
    const a = await createUser();
    const b = await createUser();
    const res = await call("GET", "/v1/account", { ip: a.ip, token: a.accessToken });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(a.id);
    expect(res.text).not.toContain(b.id);
    expect(res.text).not.toContain(b.username);
    expect(res.text).not.toContain(b.email);
  });

  it("PATCH /v1/account changes only the caller, and cannot name another account", async () => {
    const a = await createUser();
    const b = await createUser();
    const newName = `renamed${randomId()}`;
    const res = await call("PATCH", "/v1/account", { ip: a.ip, token: a.accessToken, body: { username: newName, currentPassword: a.password } });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: a.id, username: newName });

    // There is no way to address B: an id field is refused, not silently applied to anyone.
    const targeted = await call("PATCH", "/v1/account", { ip: a.ip, token: a.accessToken, body: { id: b.id, username: `x${randomId()}`, currentPassword: a.password } });
    expectProblem(targeted, 400, "validation_failed");

    const bNow = await call("GET", "/v1/account", { ip: b.ip, token: b.accessToken });
    expect(bNow.json).toMatchObject({ id: b.id, username: b.username, email: b.email, pendingEmail: null });
    const aNow = await call("GET", "/v1/account", { ip: a.ip, token: a.accessToken });
    expect(aNow.json).toMatchObject({ id: a.id, username: newName });
  });

  it("A cannot take B's username", async () => {
    const a = await createUser();
    const b = await createUser();
    const res = await call("PATCH", "/v1/account", { ip: a.ip, token: a.accessToken, body: { username: b.username, currentPassword: a.password } });
    expectProblem(res, 409, "username_taken");
    const bNow = await call("GET", "/v1/account", { ip: b.ip, token: b.accessToken });
    expect(bNow.json.username).toBe(b.username);
  });

  it("A's token with B's password can neither delete nor re-password anyone", async () => {
    const b = await createUser();
    const a = await createUser();
    // B uses a distinct password so that "the right password" could only be B's.
    const bPassword = `b's own passphrase ${randomId()}`;
    const changed = await call("PUT", "/v1/account/password", { ip: b.ip, token: b.accessToken, body: { currentPassword: b.password, newPassword: bPassword } });
    expect(changed.status, changed.text).toBe(200);
    const bToken = changed.json.accessToken as string;

    const del = await call("DELETE", "/v1/account", { ip: a.ip, token: a.accessToken, body: { password: bPassword } });
    expectProblem(del, 403, "current_password_incorrect");
    const pw = await call("PUT", "/v1/account/password", {
      ip: a.ip,
      token: a.accessToken,
      body: { currentPassword: bPassword, newPassword: `stolen passphrase ${randomId()}` },
    });
    expectProblem(pw, 403, "current_password_incorrect");

    expect((await call("GET", "/v1/account", { ip: a.ip, token: a.accessToken })).json.id).toBe(a.id);
    expect((await call("GET", "/v1/account", { ip: b.ip, token: bToken })).json.id).toBe(b.id);
    const bLogin = await call("POST", "/v1/auth/login", { ip: b.ip, body: { login: b.username, password: bPassword } });
    expect(bLogin.status).toBe(200);
  });

  it("logout with A's token ends only A's sign-in", async () => {
    const a = await createUser();
    const b = await createUser();
    const res = await call("POST", "/v1/auth/logout", { ip: a.ip, token: a.accessToken });
    expect(res.status).toBe(204);
    expectUnauthorized(await call("GET", "/v1/account", { ip: a.ip, token: a.accessToken }));
    expect((await call("GET", "/v1/account", { ip: b.ip, token: b.accessToken })).status).toBe(200);
  });
});
