/**
 * GET /v1/privacy/export (policy §7 access and portability): every inventory table with a subject,
 * and every sink outside D1 (the access log in R2), is in the document with the user's rows and
 * none of another's; credentials never are.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPORTS_PER_HOUR, exportedColumns, exportedSinks, exportedTables } from "../workers/domain/privacy";
import { tableName } from "../schema/inventory";
import { call, createUser, drainAccessLog, expectProblem, queuedAccessLines, randomIp, signup, tokenFromEmail } from "./harness";

interface ColumnInfo {
  name: string;
  type: string;
  notnull: number;
  pk: number;
}
interface ForeignKey {
  table: string;
  from: string;
  to: string;
}

const marker = () => `m-${crypto.randomUUID()}`;

async function insertRow(name: string, subject: string | null, userId: string, inserted: Map<string, Record<string, unknown>>): Promise<boolean> {
  const columns = (await env.DB.prepare(`pragma table_info("${name}")`).all<ColumnInfo>()).results;
  const keys = (await env.DB.prepare(`pragma foreign_key_list("${name}")`).all<ForeignKey>()).results;
  const subjectTables = new Set(exportedTables().map(tableName));
  for (const key of keys) {
    // A parent without a subject (a GPU host): a fresh row of its own.
    if (key.table !== name && !inserted.has(key.table) && !subjectTables.has(key.table)) await insertRow(key.table, null, userId, inserted);
  }
  if (keys.some((k) => k.table !== name && !inserted.has(k.table))) return false;
  const row: Record<string, unknown> = {};
  for (const column of columns) {
    const key = keys.find((k) => k.from === column.name);
    if (column.name === subject) row[column.name] = userId;
    else if (key) row[column.name] = inserted.get(key.table)![key.to];
    else if (column.pk === 1 && /INT/i.test(column.type)) continue;
    else row[column.name] = /INT|REAL/i.test(column.type) ? Date.now() + Math.floor(Math.random() * 1e6) : marker();
  }
  const names = Object.keys(row);
  await env.DB.prepare(`insert into "${name}" (${names.map((n) => `"${n}"`).join(", ")}) values (${names.map(() => "?").join(", ")})`)
    .bind(...names.map((n) => row[n]))
    .run();
  inserted.set(name, row);
  return true;
}

/**
 * One row for `userId` in every subject table, built from the live schema alone (so a table added
 * later gets one too): the subject column is the user, a foreign key names the row put in its
 * parent, every other column a fresh value.
 */
async function insertRowEverywhere(userId: string): Promise<Map<string, Record<string, unknown>>> {
  const inserted = new Map<string, Record<string, unknown>>();
  const users = await env.DB.prepare("select * from users where id = ?").bind(userId).first<Record<string, unknown>>();
  inserted.set("users", users!);
  const pending = exportedTables().filter((e) => tableName(e) !== "users");
  while (pending.length > 0) {
    const before = pending.length;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (await insertRow(tableName(pending[i]!), pending[i]!.subject, userId, inserted)) pending.splice(i, 1);
    }
    expect(pending.length, `tables whose parents cannot be filled: ${pending.map(tableName).join(", ")}`).toBeLessThan(before);
  }
  return inserted;
}

/** The export once every line the test's requests made is stored (as the queue's consumer would have by then). */
const exportOf = async (token: string) => {
  await drainAccessLog();
  const res = await call("GET", "/v1/privacy/export", { token });
  expect(res.status, res.text).toBe(200);
  return res;
};

describe("GET /v1/privacy/export", () => {
  it("exports a row of every subject table for the user, none of another user's, and no credential", async () => {
    const user = await createUser();
    const other = await createUser();
    const inserted = await insertRowEverywhere(user.id);
    await insertRowEverywhere(other.id);

    const res = await exportOf(user.accessToken);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Content-Disposition")).toMatch(/^attachment; filename="ozekai-export-\d{4}-\d{2}-\d{2}\.json"$/);
    const doc = res.json;
    expect(doc.schemaVersion).toBe(1);
    expect(doc.user).toEqual({ id: user.id });
    expect(doc.workspace).toEqual({ included: false, download: "GET /v1/workspace/archive (while connected)" });

    // Completeness: driven by the inventory, so a table holding user data that is not exported fails here.
    for (const entry of exportedTables()) {
      const name = tableName(entry);
      expect(doc.tables, `table ${name} in the export`).toHaveProperty([name]);
      const rows: Record<string, unknown>[] = doc.tables[name];
      const mine = inserted.get(name)!;
      const match = rows.find((r) => exportedColumns(entry).every((c) => !(c in mine) || r[c] === mine[c]));
      expect(match, `the row inserted in ${name}`).toBeDefined();
      for (const row of rows) expect(row[entry.subject!], `only the user's rows in ${name}`).toBe(user.id);
    }
    // The sinks outside D1 too: each in the document, with the user's records only, in its fields.
    expect(exportedSinks().length).toBeGreaterThan(0);
    for (const sink of exportedSinks()) {
      const records: Record<string, unknown>[] = doc.tables[sink.name];
      expect(records, `sink ${sink.name} in the export`).toBeDefined();
      expect(records.length, `the user's records in ${sink.name}`).toBeGreaterThan(0);
      for (const record of records) {
        expect(record[sink.subject], `only the user's records in ${sink.name}`).toBe(user.id);
        expect(Object.keys(record).sort()).toEqual(Object.keys(sink.fields).sort());
      }
    }
    expect(res.text).not.toContain(other.id);
    expect(res.text).not.toContain(other.email);
    expect(res.text).toContain(user.email);
    expect(doc.tables.users[0]).not.toHaveProperty("password_hash");
    expect(doc.tables.refresh_tokens.length).toBeGreaterThan(0);
    for (const row of [...doc.tables.refresh_tokens, ...doc.tables.single_use_tokens]) expect(row).not.toHaveProperty("token_hash");
    expect(res.text).not.toContain(String(inserted.get("refresh_tokens")!.token_hash));
  });

  it("pages through more rows than one page, in order, as valid JSON", async () => {
    const user = await createUser();
    const rows = Array.from({ length: 1203 }, (_, i) =>
      env.DB.prepare("insert into error_logs (at, request_id, source, code, message, user_id) values (?, ?, 'request', 'Error', 'paged', ?)").bind(i, `r-${i}`, user.id),
    );
    await env.DB.batch(rows);
    const doc = (await exportOf(user.accessToken)).json;
    const paged = doc.tables.error_logs.filter((r: { request_id: string }) => r.request_id.startsWith("r-"));
    expect(paged.map((r: { request_id: string }) => r.request_id)).toEqual(rows.map((_, i) => `r-${i}`));
  });

  it("reads access-log lines across many objects and days, each once, as valid JSON", async () => {
    const user = await createUser();
    const base = Date.UTC(2030, 0, 1, 12);
    for (let i = 0; i < 1203; i++) {
      queuedAccessLines.push({ at: base + (i % 40) * 86_400_000 + i, request_id: `r-${i}`, ip: "10.0.0.1", user_agent: "ua", method: "GET", path: "/x", status: 200, duration_ms: 1, user_id: user.id });
    }
    const doc = (await exportOf(user.accessToken)).json;
    const lines = doc.tables.access_logs.filter((r: { request_id: string }) => r.request_id.startsWith("r-"));
    expect(lines.map((r: { request_id: string }) => r.request_id).sort()).toEqual(Array.from({ length: 1203 }, (_, i) => `r-${i}`).sort());
  });

  it("includes the lines of the requests made before signing in — sign-up, verification, a failed and a good sign-in — with their IPs", async () => {
    const u = await signup();
    const verify = await call("POST", "/v1/auth/verify-email", { ip: u.ip, body: { token: tokenFromEmail(u.email, /Verify/) } });
    const guesserIp = randomIp();
    const failed = await call("POST", "/v1/auth/login", { ip: guesserIp, body: { login: u.username, password: "not the password at all" } });
    expect(failed.status).toBe(401);
    const login = await call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.username, password: u.password } });
    const stranger = await signup();
    const doc = (await exportOf(login.json.accessToken)).json;
    const lines = new Map(doc.tables.access_logs.map((r: { request_id: string }) => [r.request_id, r]));
    const lineOf = (res: { headers: Headers }) => lines.get(res.headers.get("X-Request-Id")!);
    expect(lineOf(u.res)).toMatchObject({ path: "/v1/auth/signup", ip: u.ip, status: 202 });
    expect(lineOf(verify)).toMatchObject({ path: "/v1/auth/verify-email", ip: u.ip, status: 200 });
    expect(lineOf(failed)).toMatchObject({ path: "/v1/auth/login", ip: guesserIp, status: 401 });
    expect(lineOf(login)).toMatchObject({ path: "/v1/auth/login", ip: u.ip, status: 200 });
    expect(lineOf(stranger.res)).toBeUndefined();
  });

  it("records each export and refuses more than the hourly budget with 429 problem+json", async () => {
    const user = await createUser();
    for (let i = 0; i < EXPORTS_PER_HOUR; i++) await exportOf(user.accessToken);
    const events = await env.DB.prepare("select actor, request_id from account_events where user_id = ? and type = 'privacy_export'").bind(user.id).all();
    expect(events.results).toHaveLength(EXPORTS_PER_HOUR);
    expect(events.results[0]).toMatchObject({ actor: `user:${user.id}` });
    const refused = await call("GET", "/v1/privacy/export", { token: user.accessToken });
    expectProblem(refused, 429, "rate_limited");
  });

  it("is 401 without a token", async () => {
    expectProblem(await call("GET", "/v1/privacy/export"), 401, "unauthorized");
  });
});
