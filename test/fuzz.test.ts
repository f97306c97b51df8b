/**
 * Property-based fuzz of every request body in the OpenAPI document: whatever arrives, the API
 * never answers 5xx, and every 4xx is an RFC 9457 problem (application/problem+json).
 * Operations come from the generated document, so a new route with a body is fuzzed without a
 * change here.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { api } from "../workers/api";
import { call, createUser, POLICY_VERSION, type TestUser } from "./harness";

const NUM_RUNS = 60;

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  maxLength?: number;
}
interface Operation {
  method: string;
  path: string;
  secured: boolean;
  schema: JsonSchema;
}

const document = api.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "fuzz", version: "1" } }) as unknown as {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> }; security?: unknown[] }>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

const resolve = (schema: JsonSchema | undefined): JsonSchema => {
  const ref = schema?.$ref?.replace("#/components/schemas/", "");
  return ref ? resolve(document.components?.schemas?.[ref]) : (schema ?? {});
};

const HTTP_METHODS = new Set(["get", "put", "post", "delete", "patch", "options", "head"]);
const operations: Operation[] = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item)
    // JSON bodies only: a file upload's body is the file's bytes, whatever they are.
    .filter(([method, op]) => HTTP_METHODS.has(method) && op.requestBody?.content?.["application/json"])
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      // Any path parameter gets a plausible-looking but unknown id.
      path: path.replace(/\{[^}]+\}/g, "fuzz0000"),
      secured: (op.security?.length ?? 0) > 0,
      schema: resolve(op.requestBody?.content?.["application/json"]?.schema),
    })),
);

// ── Arbitraries ─────────────────────────────────────────────────────────────────────────────────

/** A short seed repeated far past any field limit, and past the 64 KiB body limit at the top. */
const huge = fc.tuple(fc.string({ minLength: 1, maxLength: 4, unit: "grapheme" }), fc.integer({ min: 256, max: 20_000 })).map(([s, n]) => s.repeat(n));
const unicode = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 64 }),
  fc.string({ unit: "binary", maxLength: 64 }), // lone surrogates included
  fc.constantFrom("\u0000", "\u202e", "😀".repeat(40), "ǅ", "ﬃ", "e\u0301", "\uFEFF", "admin\u200b", "../../etc/passwd", "' or 1=1 --", "<script>", "%00", "\r\n"),
);
/** Anything but what a schema field wants, plus what it wants with hostile content. */
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, 1e308, -0),
  unicode,
  huge,
  fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 1 }), { maxKeys: 4 }),
);

const lower = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}[a-z0-9]$/);
/** Addresses a validator accepts (fast-check's own are RFC-exotic and mostly refused). */
const plainEmail = fc.tuple(lower, fc.stringMatching(/^[a-z][a-z0-9-]{0,15}[a-z]$/)).map(([local, host]) => `${local}${"@"}${host}.test`);

/**
 * Plausible values for a field, so requests get past validation into the domain code. Some rules
 * live in refinements the document cannot show, so the field name steers the strings too.
 */
function plausibleValue(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case "string":
      if (/email/i.test(name)) return fc.oneof(plainEmail, fc.emailAddress());
      if (/username/i.test(name)) return fc.stringMatching(/^[a-z][a-z0-9_-]{1,30}[a-z0-9]$/);
      if (/password/i.test(name)) return fc.string({ minLength: 12, maxLength: 100, unit: "grapheme" });
      if (/policy/i.test(name)) return fc.constant(POLICY_VERSION);
      return fc.oneof(fc.string({ minLength: 1, maxLength: 64 }), fc.base64String({ minLength: 4, maxLength: 64 }));
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return fc.integer({ min: 0, max: 1000 });
    default:
      return weirdValue;
  }
}

/** Values of the field's type, plausible or hostile. */
function typedValue(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = resolve(schema).type;
  const hostile = type === "string" ? fc.oneof(unicode, fc.string({ minLength: 8, maxLength: 300, unit: "grapheme" }), huge) : weirdValue;
  return fc.oneof({ weight: 2, arbitrary: plausibleValue(name, schema) }, { weight: 1, arbitrary: hostile });
}

/** Every kind of body for one operation, tagged for the failure message. */
function bodies(op: Operation): fc.Arbitrary<{ kind: string; raw: BodyInit; contentType: string }> {
  const props = op.schema.properties ?? {};
  const keys = Object.keys(props);
  const json = "application/json";
  const send = (kind: string, contentType = json) => (raw: BodyInit) => ({ kind, raw, contentType });
  const stringify = (v: unknown) => JSON.stringify(v) ?? "null";
  const extraKey = fc.option(fc.tuple(fc.string({ maxLength: 12 }), weirdValue), { nil: undefined });
  const withExtra = (obj: fc.Arbitrary<Record<string, unknown>>) =>
    fc.tuple(obj, extraKey).map(([o, extra]) => (extra ? Object.assign(Object.create(null) as Record<string, unknown>, o, { [extra[0]]: extra[1] }) : o));

  const wrongTyped = withExtra(fc.record(Object.fromEntries(keys.map((k) => [k, weirdValue])), { requiredKeys: [] }));
  // Every key, each of its type: these get past validation into the domain code.
  const wellTyped = fc.record(Object.fromEntries(keys.map((k) => [k, plausibleValue(k, props[k]!)])));
  const rightTyped = withExtra(fc.record(Object.fromEntries(keys.map((k) => [k, fc.oneof({ weight: 3, arbitrary: typedValue(k, props[k]!) }, { weight: 1, arbitrary: weirdValue })])), { requiredKeys: [] }));

  return fc.oneof(
    { weight: 6, arbitrary: wellTyped.map((v) => send("well-typed")(stringify(v))) },
    fc.anything().map((v) => send("anything")(stringify(v))),
    fc.json().map(send("json")),
    wrongTyped.map((v) => send("wrong-typed")(stringify(v))),
    rightTyped.map((v) => send("right-keys")(stringify(v))),
    fc.string({ unit: "binary", maxLength: 200 }).map(send("raw-string")),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => send("raw-bytes")(bytes)),
    fc.tuple(rightTyped, fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", "")).map(([v, type]) => send(`content-type ${type || "(none)"}`, type)(stringify(v))),
  );
}

// ── The property ────────────────────────────────────────────────────────────────────────────────

let user: TestUser;
beforeAll(async () => {
  user = await createUser();
});

describe("request body fuzz", () => {
  it("finds the operations that take a body in the OpenAPI document", () => {
    const names = operations.map((op) => `${op.method} ${op.path}`);
    expect(names).toEqual(expect.arrayContaining(["POST /v1/auth/signup", "POST /v1/auth/login", "PATCH /v1/account", "PUT /v1/account/password", "DELETE /v1/account"]));
    for (const op of operations) expect(Object.keys(op.schema.properties ?? {}).length, `${op.method} ${op.path} properties`).toBeGreaterThan(0);
    expect(operations.find((op) => op.path === "/v1/account/password")?.secured).toBe(true);
  });

  for (const op of operations) {
    it(`${op.method} ${op.path}: never 5xx, every 4xx a problem`, async () => {
      const statuses = new Map<number, number>();
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(bodies(op), async ({ kind, raw, contentType }) => {
          const res = await call(op.method, op.path, {
            rawBody: raw,
            headers: contentType ? { "Content-Type": contentType } : {},
            ...(op.secured ? { token: user.accessToken } : {}),
          });
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          codes.set(String(res.json?.code ?? res.status), (codes.get(String(res.json?.code ?? res.status)) ?? 0) + 1);
          const where = `${kind}: ${res.status} ${res.text.slice(0, 300)}`;
          expect(res.status, where).toBeLessThan(500);
          if (res.status >= 400) {
            expect(res.headers.get("Content-Type"), where).toMatch(/^application\/problem\+json/);
            expect(res.json?.status, where).toBe(res.status);
            expect(typeof res.json?.code, where).toBe("string");
            expect(res.json?.requestId, where).toBe(res.headers.get("X-Request-Id"));
          }
        }),
        { numRuns: NUM_RUNS },
      );
      const seen = JSON.stringify([...codes]);
      // The fuzz reached the route (not only a 404/405 in front of it) …
      expect([...statuses.keys()].some((s) => s === 404 || s === 405), seen).toBe(false);
      // … and got past body parsing into validation or further (not only 400 malformed / 413 / 415).
      expect([...codes.keys()].some((c) => !["malformed_json", "payload_too_large", "unsupported_media_type"].includes(c)), seen).toBe(true);
      // Protected routes were fuzzed signed in, all along.
      if (op.secured) expect(codes.has("unauthorized"), seen).toBe(false);
    });
  }

  // Found by this fuzz: the route validator's 415 fell through to a 500 `internal`.
  it("a JSON body declared as another media type is a 415 problem", async () => {
    for (const type of ["text/plain", "application/xml", "application/x-www-form-urlencoded"]) {
      const res = await call("POST", "/v1/auth/login", { rawBody: JSON.stringify({ login: "someone", password: "x".repeat(12) }), headers: { "Content-Type": type } });
      expect(res.status, `${type}: ${res.text}`).toBe(415);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
      expect(res.json.code).toBe("unsupported_media_type");
    }
  });

  it("the token used for protected routes still works afterwards", async () => {
    const me = await call("GET", "/v1/account", { token: user.accessToken });
    expect(me.status).toBe(200);
  });
});
