/**
 * GET /v1/admin/stats (policy §2 "aggregate, anonymized usage patterns"): k-anonymous buckets, no
 * user in any answer, objectors left out. Accounts, sessions and samples are written straight to
 * D1 (only the admin signs in): each test uses its own days, far from any other test's rows.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, insertSession, randomId, type TestUser } from "./harness";

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function createAdmin(): Promise<TestUser> {
  const admin = await createUser();
  await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
  return admin;
}

interface Person {
  id: string;
  username: string;
  email: string;
}

/** An account row as sign-up leaves it; `objected` = it objected to aggregate analysis. */
async function person(options: { objected?: boolean } = {}): Promise<Person> {
  const id = `usr-${randomId()}`;
  const p = { id, username: `u${randomId()}`, email: `u-${id}@example.com` };
  await env.DB.prepare(
    "insert into users (id, username, email, password_hash, created_at, last_active_at, policy_version, age_confirmed_at, analysis_objected_at) values (?, ?, ?, 'x', 0, 0, '2025-01-01', 0, ?)",
  )
    .bind(p.id, p.username, p.email, options.objected ? Date.now() : null)
    .run();
  return p;
}

async function sample(sessionId: string, userId: string, at: number, gpuUtilizationPercent: number | null) {
  await env.DB.prepare("insert into usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, shells_attached) values (?, ?, ?, 1, ?, 0)")
    .bind(sessionId, userId, at, gpuUtilizationPercent)
    .run();
}

/** A day of its own for each test (2031 onwards: no other test writes there). */
let nextDay = Date.UTC(2031, 0, 6);
const freshDay = () => {
  const day = nextDay;
  nextDay += 30 * DAY;
  return day;
};
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const stats = (admin: TestUser, query: string) => call("GET", `/v1/admin/stats?${query}`, { ip: admin.ip, token: admin.accessToken });

describe("k-anonymous buckets (k = 5 by default)", () => {
  it("a day with 4 users is suppressed: no numbers at all", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    for (let i = 0; i < 4; i++) await insertSession((await person()).id, { start: day + HOUR, end: day + 2 * HOUR, planId: "h100-1", gpuCount: 1 });
    const res = await stats(admin, `period=day&from=${iso(day)}&to=${iso(day)}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toEqual({ period: "day", from: iso(day), to: iso(day), minUsers: 5, buckets: [{ start: iso(day), suppressed: true }], database: [] });
  });

  it("a day with 5 users is shown with its totals: sessions, GPU hours, utilization bins, plan mix", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    const people = await Promise.all(Array.from({ length: 5 }, () => person()));
    // Five H100 sessions of 2 h each, one more (a second of the first user's) of 1 h on cpu-small.
    for (const p of people) {
      const session = await insertSession(p.id, { start: day + HOUR, end: day + 3 * HOUR, planId: "h100-1", gpuCount: 1 });
      await sample(session, p.id, day + HOUR + 60_000, 10);
      await sample(session, p.id, day + HOUR + 120_000, 80);
      await sample(session, p.id, day + HOUR + 180_000, null); // unreadable: in no bin
    }
    await insertSession(people[0]!.id, { start: day + 5 * HOUR, end: day + 6 * HOUR, planId: "cpu-small", gpuCount: 0 });
    const res = await stats(admin, `period=day&from=${iso(day)}&to=${iso(day)}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.buckets).toEqual([
      {
        start: iso(day),
        suppressed: false,
        sessions: 6,
        gpuHours: 10,
        utilization: { "0-25": 5, "25-50": 0, "50-75": 0, "75-100": 5 },
        // One user on cpu-small: that cell is suppressed although the day has 5 users, and so is
        // the h100-1 cell, or 6 sessions − 5 would give the one user's count away.
        planMix: [
          { planId: "cpu-small", suppressed: true },
          { planId: "h100-1", suppressed: true },
        ],
      },
    ]);
  });

  it("a user who objected is left out entirely: 5 users of whom one objects is a suppressed day", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    for (let i = 0; i < 5; i++) await insertSession((await person({ objected: i === 0 })).id, { start: day + HOUR, end: day + 2 * HOUR });
    const res = await stats(admin, `period=day&from=${iso(day)}&to=${iso(day)}`);
    expect(res.json.buckets).toEqual([{ start: iso(day), suppressed: true }]);
    // The same day with a sixth, consenting user: shown, and the objector's session is not counted.
    await insertSession((await person()).id, { start: day + HOUR, end: day + 2 * HOUR });
    const shown = await stats(admin, `period=day&from=${iso(day)}&to=${iso(day)}`);
    expect(shown.json.buckets[0]).toMatchObject({ suppressed: false, sessions: 5, gpuHours: 0 });
  });

  it("one user's usage cannot be read back: alone on a day it is suppressed, and a week of 5 users still hides the one user's plan", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    const weekStart = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY; // its Monday
    const loner = await person();
    const others = await Promise.all(Array.from({ length: 5 }, () => person()));
    await insertSession(loner.id, { start: weekStart + DAY + HOUR, end: weekStart + DAY + 9 * HOUR, planId: "h100-1", gpuCount: 8 });
    for (const p of others) await insertSession(p.id, { start: weekStart + 3 * DAY, end: weekStart + 3 * DAY + HOUR });
    const from = iso(weekStart);
    const to = iso(weekStart + 6 * DAY);

    const daily = await stats(admin, `period=day&from=${from}&to=${to}`);
    expect(daily.json.buckets).toEqual([
      { start: iso(weekStart + DAY), suppressed: true },
      expect.objectContaining({ start: iso(weekStart + 3 * DAY), suppressed: false, sessions: 5, gpuHours: 0 }),
    ]);
    // The week (6 users) is suppressed too: its totals minus the shown day would be the loner's.
    const weekly = await stats(admin, `period=week&from=${from}&to=${to}`);
    expect(weekly.json.buckets).toEqual([{ start: from, suppressed: true }]);
    // A week whose every day has 5 users is shown: the plan mix too, when every cell has 5.
    const nextWeek = weekStart + 7 * DAY;
    for (const p of others) await insertSession(p.id, { start: nextWeek + HOUR, end: nextWeek + 2 * HOUR, planId: "h100-1", gpuCount: 2 });
    const shown = await stats(admin, `period=week&from=${iso(nextWeek)}&to=${iso(nextWeek + 6 * DAY)}`);
    expect(shown.json.buckets).toEqual([expect.objectContaining({ start: iso(nextWeek), suppressed: false, sessions: 5, gpuHours: 10, planMix: [{ planId: "h100-1", suppressed: false, sessions: 5 }] })]);
    for (const answer of [daily.text, weekly.text]) {
      for (const p of [loner, ...others]) for (const value of [p.id, p.username, p.email]) expect(answer).not.toContain(value);
    }
  });

  it("one GPU user among five: the day is shown, but its GPU hours and utilization (that user's alone) are not", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    const gpuUser = await person();
    const session = await insertSession(gpuUser.id, { start: day + HOUR, end: day + 4 * HOUR, planId: "h100-1", gpuCount: 1 });
    await sample(session, gpuUser.id, day + 2 * HOUR, 90);
    for (let i = 0; i < 4; i++) await insertSession((await person()).id, { start: day + HOUR, end: day + 2 * HOUR });
    const res = await stats(admin, `period=day&from=${iso(day)}&to=${iso(day)}`);
    expect(res.json.buckets).toEqual([expect.objectContaining({ suppressed: false, sessions: 5, gpuHours: null, utilization: null })]);
  });

  it("no answer names a user: ids, usernames and emails appear nowhere in the JSON", async () => {
    const admin = await createAdmin();
    const day0 = freshDay();
    const day = day0 - ((new Date(day0).getUTCDay() + 6) % 7) * DAY; // a Monday
    const people = await Promise.all(Array.from({ length: 6 }, () => person()));
    for (const p of people) {
      const session = await insertSession(p.id, { start: day + HOUR, end: null, planId: "h100-1", gpuCount: 1 });
      await sample(session, p.id, day + 2 * HOUR, 50);
    }
    for (const period of ["day", "week"]) {
      const res = await stats(admin, `period=${period}&from=${iso(day - 7 * DAY)}&to=${iso(day + 13 * DAY)}`);
      expect(res.status, res.text).toBe(200);
      expect(res.json.buckets.length).toBeGreaterThan(0);
      for (const p of [...people, { id: admin.id, username: admin.username, email: admin.email }]) for (const value of [p.id, p.username, p.email]) expect(res.text).not.toContain(value);
      expect(res.text).not.toMatch(/ses-|ws-|host-|@/);
    }
  });
});

describe("who may ask, and with what", () => {
  it("a user who is not an admin gets 403", async () => {
    const user = await createUser();
    expectProblem(await stats(user, "period=day&from=2031-01-01&to=2031-01-31"), 403, "forbidden");
  });

  it.each([
    ["an unknown period", "period=month&from=2031-01-01&to=2031-01-31"],
    ["a malformed date", "period=day&from=2031-1-1&to=2031-01-31"],
    ["a date that does not exist", "period=day&from=2031-02-30&to=2031-03-01"],
    ["to before from", "period=day&from=2031-02-01&to=2031-01-31"],
    ["more than 366 days", "period=day&from=2031-01-01&to=2032-01-03"],
    ["no range", "period=day"],
    ["a week from a day other than Monday", "period=week&from=2031-01-07&to=2031-01-19"],
    ["a week to a day other than Sunday", "period=week&from=2031-01-06&to=2031-01-18"],
  ])("%s is 400", async (_name, query) => {
    const admin = await createAdmin();
    expectProblem(await stats(admin, query), 400, "validation_failed");
  });

  it("a k under 5 is refused as a misconfiguration (503), never used", async () => {
    const admin = await createAdmin();
    const res = await call("GET", "/v1/admin/stats?period=day&from=2031-01-01&to=2031-01-02", { ip: admin.ip, token: admin.accessToken, env: { ...env, STATS_MIN_USERS: "2" } as Cloudflare.Env });
    expectProblem(res, 503, "not_configured");
  });

  it("a larger k is honoured", async () => {
    const admin = await createAdmin();
    const day = freshDay();
    for (let i = 0; i < 6; i++) await insertSession((await person()).id, { start: day + HOUR, end: day + 2 * HOUR });
    const res = await call("GET", `/v1/admin/stats?period=day&from=${iso(day)}&to=${iso(day)}`, { ip: admin.ip, token: admin.accessToken, env: { ...env, STATS_MIN_USERS: "7" } as Cloudflare.Env });
    expect(res.json).toMatchObject({ minUsers: 7, buckets: [{ start: iso(day), suppressed: true }] });
  });
});
