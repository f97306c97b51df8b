/**
 * The database watching its own size (D1's per-database limit): the daily job's row counts and
 * size, their place in the admins' statistics, and the warning at DATABASE_WARN_PERCENT — once a
 * day per admin, however many ticks run.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inventory, tableName } from "../schema/inventory";
import { call, createUser, outbox, runCron, type TestUser } from "./harness";

const DAILY = "0 8 * * *";
const DAY = 86_400_000;

const makeAdmin = async () => {
  const admin = await createUser();
  await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
};

/** A UTC day of its own for each test, far from every other file's clock. */
const testDay = () => Date.UTC(2040, 0, 1) + Math.floor(Math.random() * 3000) * DAY;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const statsOn = async (admin: TestUser, day: number) => {
  const res = await call("GET", `/v1/admin/stats?period=day&from=${iso(day)}&to=${iso(day)}`, { ip: admin.ip, token: admin.accessToken });
  expect(res.status).toBe(200);
  return res.json.database as { day: string; sizeBytes: number; limitBytes: number; percent: number; tables: { table: string; rows: number }[] }[];
};

const warningsTo = (admin: TestUser) => outbox.filter((m) => m.to === admin.email && /The database is .* full/.test(m.subject));

describe("the database's daily measurement", () => {
  it("records every table's row count and the file's size, shown in the admins' statistics for that day", async () => {
    const admin = await makeAdmin();
    const day = testDay();
    await runCron(DAILY, day + 8 * 3_600_000);
    const [measured, ...others] = await statsOn(admin, day);
    expect(others).toEqual([]);
    expect(measured!.day).toBe(iso(day));
    expect(measured!.tables.map((t) => t.table).sort()).toEqual(inventory.map(tableName).sort());
    const { n: users } = (await env.DB.prepare("select count(*) as n from users").first<{ n: number }>())!;
    expect(measured!.tables.find((t) => t.table === "users")!.rows).toBe(users);
    // The file's size, in whole pages.
    expect(measured!.sizeBytes).toBeGreaterThan(0);
    expect(measured!.sizeBytes % 4096).toBe(0);
    expect(measured!.limitBytes).toBe(10e9);
    expect(measured!.percent).toBe(Math.round((measured!.sizeBytes / 10e9) * 1000) / 10);
    // Largest first.
    expect(measured!.tables.map((t) => t.rows)).toEqual([...measured!.tables.map((t) => t.rows)].sort((a, b) => b - a));
    // The day before has no measurement.
    expect(await statsOn(admin, day - DAY)).toEqual([]);
  });

  it("a second tick the same day updates that day's row, and the size follows what was written", async () => {
    const admin = await makeAdmin();
    const day = testDay();
    await runCron(DAILY, day + 8 * 3_600_000);
    const [before] = await statsOn(admin, day);
    // About 4 MB of error-log rows: messages of 504 characters that do not compress away in pages.
    const rows = Array.from({ length: 8000 }, (_, i) =>
      env.DB.prepare("insert into error_logs (at, request_id, source, code, message) values (?, ?, 'request', 'Error', ?)").bind(day, `size-${day}-${i}`, crypto.randomUUID().repeat(14)),
    );
    for (let i = 0; i < rows.length; i += 500) await env.DB.batch(rows.slice(i, i + 500));
    await runCron(DAILY, day + 9 * 3_600_000);
    const after = await statsOn(admin, day);
    expect(after).toHaveLength(1);
    expect(after[0]!.sizeBytes - before!.sizeBytes).toBeGreaterThan(4_000_000);
    const errorLogs = (t: { tables: { table: string; rows: number }[] }) => t.tables.find((x) => x.table === "error_logs")!.rows;
    expect(errorLogs(after[0]!) - errorLogs(before!)).toBeGreaterThanOrEqual(8000);
  });

  it("warns every admin at 70 % of the limit once a day however many ticks run, and not below it", async () => {
    const admin = await makeAdmin();
    const other = await makeAdmin();
    const day = testDay();
    await runCron(DAILY, day + 8 * 3_600_000);
    const [first] = await statsOn(admin, day);
    expect(warningsTo(admin)).toHaveLength(0);

    // A limit the database already fills to about 77 %.
    const near = { DATABASE_LIMIT_BYTES: String(Math.ceil(first!.sizeBytes * 1.3)) } as Partial<Cloudflare.Env>;
    const nextDay = day + DAY;
    await Promise.all([runCron(DAILY, nextDay + 8 * 3_600_000, near), runCron(DAILY, nextDay + 8 * 3_600_000 + 1, near)]);
    await runCron(DAILY, nextDay + 10 * 3_600_000, near);
    for (const who of [admin, other]) {
      const mails = warningsTo(who);
      expect(mails).toHaveLength(1);
      expect(mails[0]!.subject).toMatch(/^The database is 7\d(\.\d)? % full$/);
      expect(mails[0]!.text).toMatch(/Largest tables by rows:\n[a-z_]+: \d+\n/);
    }

    // The next day, still above: one more each.
    await runCron(DAILY, nextDay + DAY + 8 * 3_600_000, near);
    expect(warningsTo(admin)).toHaveLength(2);

    // Below the threshold: nothing.
    const roomy = { DATABASE_LIMIT_BYTES: String(first!.sizeBytes * 2) } as Partial<Cloudflare.Env>;
    await runCron(DAILY, nextDay + 2 * DAY + 8 * 3_600_000, roomy);
    expect(warningsTo(admin)).toHaveLength(2);
  });
});
