
import { describe, expect, it } from "vitest";
import { api } from "../workers/api";
import { call, createUser, expectProblem, randomId, signup, testEnv, tokenFromEmail } from "./harness";

type Result = Awaited<ReturnType<typeof call>>;

/** What harness `call()` does, with an environment of the test's choosing. */

function expectSecurityHeaders(res: Result) {
  const hsts = res.headers.get("Strict-Transport-Security") ?? "";
  expect(Number(/max-age=(\d+)/.exec(hsts)?.[1])).toBeGreaterThanOrEqual(31_536_000);
  expect(hsts).toContain("includeSubDomains");
  expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  expect(res.headers.get("X-Frame-Options")).toBe("DENY");
  expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
  const csp = res.headers.get("Content-Security-Policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALLOWED_ORIGIN = "https://ozekai.test";

const doc = api.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
const documentedOperations = Object.entries(doc.paths ?? {}).flatMap(([path, methods]) =>
  Object.entries(methods as Record<string, { requestBody?: unknown }>).map(([method, op]) => ({
    method: method.toUpperCase(),
    path: path.replace(/\{[^}]+\}/g, () => crypto.randomUUID()),
    hasBody: op.requestBody !== undefined,
  })),
);

describe("security headers", () => {
  it("are on 200s, 4xx problems, the docs page and the OpenAPI document", async () => {
    const user = await createUser();
    const responses = [
      await call("GET", "/healthz"),
      await call("GET", "/v1/account", { token: user.accessToken }),
      await call("GET", "/v1/account"),
      await call("GET", "/v1/does-not-exist"),
      await call("GET", "/not-under-v1"),
      await call("POST", "/v1/auth/login", { body: { login: "" } }),
      await call("GET", "/docs"),
      await call("GET", "/openapi.json"),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 401, 404, 404, 400, 200, 200]);
    for (const res of responses) expectSecurityHeaders(res);
  });
});

describe("request id", () => {
  it("X-Request-Id is a fresh UUID on every response and equals the problem's requestId", async () => {
    const ok = await call("GET", "/healthz");
    const problem = await call("GET", "/v1/account");
    const other = await call("GET", "/v1/account");
    for (const res of [ok, problem, other]) expect(res.headers.get("X-Request-Id")).toMatch(UUID);
    expectProblem(problem, 401, "unauthorized");
    expect(problem.json.requestId).toBe(problem.headers.get("X-Request-Id"));
    expect(new Set([ok, problem, other].map((r) => r.headers.get("X-Request-Id"))).size).toBe(3);
  });

  it("a client cannot choose its request id", async () => {
    const res = await call("GET", "/v1/account", { headers: { "X-Request-Id": "chosen-by-client" } });
    expect(res.headers.get("X-Request-Id")).toMatch(UUID);
    expect(res.json.requestId).not.toBe("chosen-by-client");
  });
});

describe("CORS", () => {
  const preflight = (origin: string, path = "/v1/auth/login") =>
    call("OPTIONS", path, {
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type" },
    });

  it("a preflight from the allowed origin is answered for that origin, without credentials", async () => {
    const res = await preflight(ALLOWED_ORIGIN);
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    expect(res.headers.get("Vary")).toContain("Origin");
    expectSecurityHeaders(res);
  });

  it.each(["https://evil.example", "https://ozekai.test.evil.example", "http://ozekai.test", "null"])("a preflight from %s gets no Allow-Origin", async (origin) => {
    const res = await preflight(origin);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("an actual request echoes only the allowed origin and exposes the request id", async () => {
    const allowed = await call("GET", "/v1/policy", { headers: { Origin: ALLOWED_ORIGIN } });
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
    const denied = await call("GET", "/v1/policy", { headers: { Origin: "https://evil.example" } });
    expect(denied.status).toBe(200);
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("no cookies anywhere (policy §8)", () => {
  it("no Set-Cookie on a sample covering every documented route, signed in and not, success and failure", async () => {
    const responses: Result[] = [];
    const record = async (p: Promise<Result>) => {
      const res = await p;
      responses.push(res);
      return res;
    };
    // Every documented operation, anonymously, with an empty JSON body where it takes one.
    for (const op of documentedOperations) await record(call(op.method, op.path, op.hasBody ? { body: {} } : {}));

    // The successful paths of the auth and account routes.
    const u = await signup();
    responses.push(u.res);
    await record(call("POST", "/v1/auth/verify-email", { ip: u.ip, body: { token: tokenFromEmail(u.email, /Verify/) } }));
    const login = await record(call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.username, password: u.password } }));
    const refreshed = await record(call("POST", "/v1/auth/refresh", { ip: u.ip, body: { refreshToken: login.json.refreshToken } }));
    const token = refreshed.json.accessToken as string;
    // Every documented operation, signed in (logout last: it ends the sign-in).
    for (const op of documentedOperations.filter((o) => o.path !== "/v1/auth/logout")) {
      await record(call(op.method, op.path, { ip: u.ip, token, ...(op.hasBody ? { body: {} } : {}) }));
    }
    await record(call("PATCH", "/v1/account", { ip: u.ip, token, body: { username: `c${randomId()}`, currentPassword: u.password } }));
    await record(call("POST", "/v1/auth/password-reset", { ip: u.ip, body: { email: u.email } }));
    const reset = await record(
      call("POST", "/v1/auth/password-reset/confirm", { ip: u.ip, body: { token: tokenFromEmail(u.email, /Reset/), password: `cookie-free passphrase ${randomId()}` } }),
    );
    expect(reset.status).toBe(204);
    const again = await record(call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.email, password: `wrong ${randomId()}` } }));
    expect(again.status).toBe(401);
    const fresh = await createUser();
    await record(call("POST", "/v1/auth/logout", { ip: fresh.ip, token: fresh.accessToken }));
    await record(call("GET", "/v1/no-such-thing", { ip: fresh.ip }));
    await record(call("DELETE", "/v1/auth/login", { ip: fresh.ip }));
    await record(call("GET", "/docs"));
    await record(call("GET", "/openapi.json"));
    await record(call("OPTIONS", "/v1/auth/login", { headers: { Origin: ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST" } }));

    const statuses = new Set(responses.map((r) => r.status));
    for (const status of [200, 202, 204, 400, 401, 404, 405]) expect(statuses).toContain(status);
    for (const res of responses) {
      expect(res.headers.get("Set-Cookie"), `${res.status} ${res.text.slice(0, 80)}`).toBeNull();
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });
});

describe("request bodies", () => {
  const LIMIT = 64 * 1024;
  /** A JSON body of exactly `size` bytes. */
  const jsonOfSize = (size: number) => {
    const skeleton = JSON.stringify({ login: "", password: "" });
    return JSON.stringify({ login: "x".repeat(size - skeleton.length), password: "" });
  };

  it("over 64 KiB → 413 payload_too_large", async () => {
    const res = await call("POST", "/v1/auth/login", { rawBody: jsonOfSize(LIMIT + 1), headers: { "Content-Type": "application/json" } });
    expectProblem(res, 413, "payload_too_large");
  });

  it("exactly 64 KiB is read (and then validated)", async () => {
    const body = jsonOfSize(LIMIT);
    expect(new TextEncoder().encode(body).length).toBe(LIMIT);
    const res = await call("POST", "/v1/auth/login", { rawBody: body, headers: { "Content-Type": "application/json" } });
    expectProblem(res, 400, "validation_failed");
  });

  it("a streamed body without Content-Length is cut off at 64 KiB too", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"login":"'));
        if (sent >= 6) return controller.close();
        sent += 1;
        controller.enqueue(chunk);
      },
    });
    const res = await call("POST", "/v1/auth/login", { rawBody: stream, headers: { "Content-Type": "application/json" } });
    expectProblem(res, 413, "payload_too_large");
  });

  it.each([
    ["text/plain", "text/plain"],
    ["a form", "application/x-www-form-urlencoded"],
    ["multipart", "multipart/form-data; boundary=x"],
    ["a look-alike type", "application/jsonp"],
  ])("%s on a POST JSON route → 415 unsupported_media_type", async (_case, contentType) => {
    const res = await call("POST", "/v1/auth/login", { rawBody: JSON.stringify({ login: "a", password: "b" }), headers: { "Content-Type": contentType } });
    expectProblem(res, 415, "unsupported_media_type");
  });

  it("415 on a protected route too, and the account is not changed", async () => {
    const user = await createUser();
    const res = await call("PATCH", "/v1/account", {
      ip: user.ip,
      token: user.accessToken,
      rawBody: JSON.stringify({ username: `t${randomId()}`, currentPassword: user.password }),
      headers: { "Content-Type": "text/plain" },
    });
    expectProblem(res, 415, "unsupported_media_type");
    expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).json.username).toBe(user.username);
  });

  it("a route without a declared body refuses a non-JSON body too (415), and still takes none", async () => {
    const user = await createUser();
    const refused = await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken, rawBody: "x=1", headers: { "Content-Type": "text/plain" } });
    expectProblem(refused, 415, "unsupported_media_type");
    expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken })).status).toBe(200);
    expect((await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken })).status).toBe(204);
  });

  it("application/json with a charset is fine; malformed JSON → 400 malformed_json", async () => {
    const ok = await call("POST", "/v1/auth/login", { rawBody: JSON.stringify({ login: "nobody", password: "nothing at all" }), headers: { "Content-Type": "application/json; charset=utf-8" } });
    expectProblem(ok, 401, "invalid_credentials");
    const bad = await call("POST", "/v1/auth/login", { rawBody: '{"login": "a", ', headers: { "Content-Type": "application/json" } });
    expectProblem(bad, 400, "malformed_json");
  });
});

describe("unknown paths and wrong methods", () => {
  it.each([
    ["DELETE", "/v1/auth/login", ["POST"]],
    ["GET", "/v1/auth/signup", ["POST"]],
    ["PUT", "/v1/auth/logout", ["POST"]],
    ["POST", "/v1/account", ["DELETE", "GET", "PATCH"]],
    ["PUT", "/v1/account", ["DELETE", "GET", "PATCH"]],
    ["GET", "/v1/account/password", ["PUT"]],
    ["POST", "/healthz", ["GET"]],
    ["DELETE", "/openapi.json", ["GET"]],
  ])("%s %s → 405 method_not_allowed with Allow", async (method, path, allowed) => {
    const res = await call(method, path);
    expectProblem(res, 405, "method_not_allowed");
    const allow = (res.headers.get("Allow") ?? "").split(",").map((m) => m.trim());
    expect(allow.filter((m) => m !== "HEAD").sort()).toEqual(allowed);
  });

  it.each(["/v1/nope", "/v1/auth", "/v1/account/nope", "/v1/accounts", "/nope", "/v1/auth/login/extra"])("GET %s → 404 not_found", async (path) => {
    const res = await call("GET", path);
    expectProblem(res, 404, "not_found");
    expectSecurityHeaders(res);
  });
});

describe("/openapi.json", () => {
  const AUTH_AND_ACCOUNT_PATHS = [
    "/v1/auth/signup",
    "/v1/auth/verify-email",
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/auth/logout",
    "/v1/auth/password-reset",
    "/v1/auth/password-reset/confirm",
    "/v1/account",
    "/v1/account/password",
  ];

  it("a nullable named schema is documented as a union with null, never as allOf (which no null matches, and which the typed client would read as an object)", async () => {
    const spec = (await call("GET", "/openapi.json")).json;
    const found: string[] = [];
    const walk = (node: unknown, path: string) => {
      if (!node || typeof node !== "object") return;
      const allOf = (node as { allOf?: { type?: unknown }[] }).allOf;
      if (allOf?.some((member) => member.type === "null" || (Array.isArray(member.type) && member.type.includes("null")))) found.push(path);
      for (const [key, value] of Object.entries(node)) walk(value, `${path}/${key}`);
    };
    walk(spec, "");
    expect(found).toEqual([]);
    expect(spec.components.schemas.Workspace.properties.session.anyOf).toEqual([{ $ref: "#/components/schemas/Session" }, { type: "null" }]);
  });

  it("is OpenAPI 3.1 listing every path of the auth/account map, errors as problem+json", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    const spec = res.json;
    expect(spec.openapi).toBe("3.1.0");
    expect(spec.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(AUTH_AND_ACCOUNT_PATHS));
    expect(Object.keys(spec.paths.v1 ?? {})).toEqual([]);
    expect(Object.keys(spec.paths["/v1/account"]).sort()).toEqual(["delete", "get", "patch"]);
    expect(Object.keys(spec.paths["/v1/account/password"])).toEqual(["put"]);
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(spec.components.schemas.Problem).toBeDefined();

    let errorResponses = 0;
    for (const [path, methods] of Object.entries(spec.paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> }>>)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue;
          errorResponses += 1;
          expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual(["application/problem+json"]);
        }
        if (op.security?.length) expect(Object.keys(op.responses), `${method} ${path}`).toContain("401");
      }
    }
    expect(errorResponses).toBeGreaterThan(20);
  });
});

describe("/docs", () => {
  it("is self-contained HTML: no script, no third-party origin, a strict CSP that allows exactly its own style", async () => {
    const res = await call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const html = res.text;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|iframe|img|object|embed|frame|base|form)\b/i);
    expect(html).not.toMatch(/\s(src|srcset|action|formaction|poster|background)\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // Every link stays on this origin.
    const hrefs = [...html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^\/(?!\/)|^#/);

    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/https?:|\*/);
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
    expect(styles).toHaveLength(1);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(styles[0]!)));
    expect(csp).toContain(`style-src 'sha256-${btoa(String.fromCharCode(...digest))}'`);
    expectSecurityHeaders(res);

    for (const path of ["/v1/auth/login", "/v1/account", "/v1/account/password"]) expect(html).toContain(path);
  });
});

describe("errors never leak", () => {
  const brokenD1 = {
    prepare() {
      throw new Error("secret detail");
    },
    batch: async () => {
      throw new Error("secret detail");
    },
    exec: async () => {
      throw new Error("secret detail");
    },
    withSession() {
      throw new Error("secret detail");
    },
    dump: async () => {
      throw new Error("secret detail");
    },
  } as unknown as D1Database;

  const expectHidden = (res: Result) => {
    expect(res.text).not.toContain("secret detail");
    expect(res.text).not.toMatch(/\bat \S+ \(|\bat <anonymous>|\.ts:\d+|\.js:\d+|Error:/);
  };

  it.each([
    ["a protected route", "GET", "/v1/account", true],
    ["login", "POST", "/v1/auth/login", false],
  ])("an unexpected error on %s → 500 internal without message or stack", async (_case, method, path, signedIn) => {
    const user = await createUser();
    const res = await call(method, path, {
      env: { ...testEnv(), DB: brokenD1 },
      token: signedIn ? user.accessToken : undefined,
      body: method === "POST" ? { login: user.username, password: user.password } : undefined,
    });
    expectProblem(res, 500, "internal");
    expect(res.json.detail).toContain(res.json.requestId);
    expectHidden(res);
    expect(res.text).not.toContain(user.password);
    expectSecurityHeaders(res);
  });

  it("a missing secret → 503 not_configured naming it, never showing a secret value", async () => {
    const env = testEnv();
    const secrets = [env.PASSWORD_PEPPER!, env.ACCESS_TOKEN_KEYS!, ...Object.values(JSON.parse(env.ACCESS_TOKEN_KEYS!)[0] as Record<string, string>)];
    const { PASSWORD_PEPPER: _omitted, ...withoutPepper } = env;
    const res = await call("POST", "/v1/auth/login", { env: withoutPepper as Cloudflare.Env, body: { login: "someone", password: "a password here" } });
    expectProblem(res, 503, "not_configured");
    expect(res.json.detail).toContain("PASSWORD_PEPPER");
    for (const value of secrets.filter((v) => v.length >= 8)) expect(res.text).not.toContain(value);
    expectHidden(res);
  });

  it("one failure rule for every setting: a WORKSPACE_FILE_MAX_BYTES that does not parse is 503 not_configured naming it where it is read (never a silent default); the rest keeps working", async () => {
    const user = await createUser();
    const broken = { ...testEnv(), WORKSPACE_FILE_MAX_BYTES: "ten gigabytes" } as Cloudflare.Env;
    const upload = await call("PUT", "/v1/workspace/files/a.txt", { env: broken, token: user.accessToken, rawBody: "abc", headers: { "Content-Length": "3" } });
    expectProblem(upload, 503, "not_configured");
    expect(upload.json.detail).toContain("WORKSPACE_FILE_MAX_BYTES");
    expect(upload.text).not.toContain("ten gigabytes");
    expect((await call("GET", "/v1/account", { env: broken, token: user.accessToken })).status).toBe(200);
  });

  it.each([
    ["an unparsable key set", { ACCESS_TOKEN_KEYS: `not json ${randomId()}-leak` }],
    ["a short pepper", { PASSWORD_PEPPER: btoa(`short-${randomId()}`) }],
    ["a key set without private keys", { ACCESS_TOKEN_KEYS: JSON.stringify([{ kty: "OKP", crv: "Ed25519", kid: "k", x: `x-${randomId()}-leak` }]) }],
  ])("an invalid secret (%s) → 503 not_configured that does not echo it", async (_case, override) => {
    const env = { ...testEnv(), ...override };
    const res = await call("GET", "/v1/account", { env, token: "whatever" });
    expectProblem(res, 503, "not_configured");
    for (const value of Object.values(override)) expect(res.text).not.toContain(value);
    expect(res.text).not.toContain("-leak");
    expectHidden(res);
  });
});
