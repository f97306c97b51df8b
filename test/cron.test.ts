/**
 * The scheduled handler (workers/cron) with a controlled clock: the retention job takes
 * `controller.scheduledTime` as "now", so rows are written relative to a chosen `now` and the tick
 * runs at that `now`. Each test uses its own `now`, later than the previous test's, and its own
 * rows (ids carry a per-test tag), so tests do not depend on each other's leftovers.
 */
/// <reference types="vite/client" />
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import { CRON_JOBS } from "../workers/cron";
import { PURGE_CHUNK_ROWS, PURGE_MAX_CHUNKS_PER_RULE } from "../workers/domain/privacy";
import worker from "../workers/index";
import { POLICY_VERSION, randomId, testEnv } from "./harness";

const CRON = "17 * * * *";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PER_TICK = PURGE_CHUNK_ROWS * PURGE_MAX_CHUNKS_PER_RULE;

/** Each test's clock: a fixed base, a year apart per test, always later than the last. */
let clockBase = Date.UTC(2031, 0, 1, 0, 17);
const nextNow = () => {
  clockBase += 400 * DAY;
  return clockBase;
};

async function tick(now: number, cron = CRON) {
  const controller = createScheduledController({ cron, scheduledTime: now });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, testEnv(), ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

const db = env.DB;
const count = async (sqlText: string, ...params: unknown[]) => (await db.prepare(sqlText).bind(...params).first<{ n: number }>())!.n;

async function insertUser(now: number) {
  const id = `usr_${randomId()}`;
  await db
    .prepare("insert into users (id, username, email, created_at, last_active_at, policy_version, age_confirmed_at) values (?, ?, ?, ?, ?, ?, ?)")
    .bind(id, `u${id}`, `${id}@example.com`, now - 400 * DAY, now, POLICY_VERSION, now - 400 * DAY)
    .run();
  return id;
}

const singleUse = (hash: string, userId: string, createdAt: number, expiresAt: number, usedAt: number | null) =>
  db
    .prepare("insert into single_use_tokens (token_hash, user_id, purpose, created_at, expires_at, used_at) values (?, ?, 'verify_email', ?, ?, ?)")
    .bind(hash, userId, createdAt, expiresAt, usedAt);
const loginSession = (id: string, userId: string, createdAt: number, expiresAt: number) =>
  db.prepare("insert into login_sessions (id, user_id, created_at, last_used_at, expires_at) values (?, ?, ?, ?, ?)").bind(id, userId, createdAt, createdAt, expiresAt);
const refreshToken = (hash: string, sessionId: string, userId: string, createdAt: number, expiresAt: number, usedAt: number | null) =>
  db
    .prepare("insert into refresh_tokens (token_hash, login_session_id, user_id, created_at, expires_at, used_at) values (?, ?, ?, ?, ?, ?)")
    .bind(hash, sessionId, userId, createdAt, expiresAt, usedAt);
const errorLog = (requestId: string, at: number) =>
  db.prepare("insert into error_logs (at, request_id, source, code, message) values (?, ?, 'request', 'Error', 'test')").bind(at, requestId);
const accountEvent = (userId: string, requestId: string, at: number) =>
  db.prepare("insert into account_events (user_id, type, actor, at, request_id) values (?, 'login', 'system:test', ?, ?)").bind(userId, at, requestId);

const exists = async (table: string, column: string, value: string) => (await count(`select count(*) as n from ${table} where ${column} = ?`, value)) > 0;

/** `count` rows of expired error logs tagged `tag`, in a few big statements. */
async function bulkErrorLogs(tag: string, rows: number, at: number) {
  const per = 5_000;
  const statements: D1PreparedStatement[] = [];
  for (let start = 0; start < rows; start += per) {
    const n = Math.min(per, rows - start);
    statements.push(
      db
        .prepare(
          `insert into error_logs (at, request_id, source, code, message)
           with recursive seq(i) as (select 1 union all select i + 1 from seq where i < ?)
           select ? - i, ? || '-' || (? + i), 'request', 'Error', 'bulk' from seq`,
        )
        .bind(n, at, tag, start),
    );
  }
  await db.batch(statements);
}

describe("single-use tokens", () => {
  it("deletes expired and used tokens, keeps an unexpired unused one", async () => {
    const now = nextNow();
    const user = await insertUser(now);
    const t = randomId();
    await db.batch([
      singleUse(`${t}-expired`, user, now - 2 * DAY, now - DAY, null),
      singleUse(`${t}-expired-1ms`, user, now - DAY, now - 1, null),
      singleUse(`${t}-used`, user, now - HOUR, now + DAY, now - 60_000),
      singleUse(`${t}-used-and-expired`, user, now - 2 * DAY, now - DAY, now - 1.5 * DAY),
      singleUse(`${t}-live`, user, now - HOUR, now + HOUR, null),
      singleUse(`${t}-expires-now`, user, now - HOUR, now, null),
    ]);
    await tick(now);
    const left = await db.prepare("select token_hash from single_use_tokens where token_hash like ? order by token_hash").bind(`${t}-%`).all<{ token_hash: string }>();
    // `expires_at = now` is not yet older than now: it goes on the next tick.
    expect(left.results.map((r) => r.token_hash)).toEqual([`${t}-expires-now`, `${t}-live`]);
    expect(await exists("users", "id", user)).toBe(true);
  });
});

describe("refresh tokens and sign-ins", () => {
  it("deletes expired refresh tokens, keeps unexpired ones even when used; expired sign-ins go after their tokens", async () => {
    const now = nextNow();
    const user = await insertUser(now);
    const t = randomId();
    await db.batch([
      loginSession(`${t}-old`, user, now - 91 * DAY, now - DAY),
      loginSession(`${t}-live`, user, now - DAY, now + 89 * DAY),
      refreshToken(`${t}-old-a`, `${t}-old`, user, now - 31 * DAY, now - DAY, now - 30 * DAY),
      refreshToken(`${t}-old-b`, `${t}-old`, user, now - 30 * DAY, now - DAY, null),
      refreshToken(`${t}-live-expired`, `${t}-live`, user, now - DAY, now - 1, null),
      refreshToken(`${t}-live-used`, `${t}-live`, user, now - DAY, now + 29 * DAY, now - HOUR),
      refreshToken(`${t}-live-current`, `${t}-live`, user, now - HOUR, now + 30 * DAY, null),
    ]);
    await tick(now);
    const tokens = await db.prepare("select token_hash from refresh_tokens where token_hash like ? order by token_hash").bind(`${t}-%`).all<{ token_hash: string }>();
    expect(tokens.results.map((r) => r.token_hash)).toEqual([`${t}-live-current`, `${t}-live-used`]);
    expect(await exists("login_sessions", "id", `${t}-old`)).toBe(false);
    expect(await exists("login_sessions", "id", `${t}-live`)).toBe(true);
  });
});

describe("log retention boundaries", () => {
  it("error logs: 89 days kept, 91 days deleted", async () => {
    const now = nextNow();
    const t = randomId();
    await db.batch([errorLog(`${t}-89`, now - 89 * DAY), errorLog(`${t}-91`, now - 91 * DAY)]);
    await tick(now);
    expect(await exists("error_logs", "request_id", `${t}-89`)).toBe(true);
    expect(await exists("error_logs", "request_id", `${t}-91`)).toBe(false);
  });

  it("account events: 364 days kept, 366 days deleted", async () => {
    const now = nextNow();
    const user = await insertUser(now);
    const t = randomId();
    await db.batch([accountEvent(user, `${t}-364`, now - 364 * DAY), accountEvent(user, `${t}-366`, now - 366 * DAY)]);
    await tick(now);
    expect(await exists("account_events", "request_id", `${t}-364`)).toBe(true);
    expect(await exists("account_events", "request_id", `${t}-366`)).toBe(false);
  });

  it("takes the scheduled time as now, not the wall clock", async () => {
    const now = nextNow();
    const t = randomId();
    // 91 days before the scheduled time, yet years in the future by the wall clock.
    await db.batch([errorLog(`${t}-91`, now - 91 * DAY), errorLog(`${t}-89`, now - 89 * DAY)]);
    expect(now - 91 * DAY).toBeGreaterThan(Date.now());
    await tick(now);
    expect(await exists("error_logs", "request_id", `${t}-91`)).toBe(false);
    expect(await exists("error_logs", "request_id", `${t}-89`)).toBe(true);
  });
});

describe("bounded work per tick", () => {
  it(`deletes at most ${PER_TICK} rows of a rule per tick and finishes on the next`, async () => {
    const now = nextNow();
    // Clear what earlier tests left expired at this now, so the counts below are this test's alone.
    await tick(now);
    const t = `bulk-${randomId()}`;
    const rows = PER_TICK + Math.floor(PER_TICK / 2);
    await bulkErrorLogs(t, rows, now - 100 * DAY);
    await db.batch([errorLog(`${t}-fresh`, now - DAY)]);
    const mine = () => count("select count(*) as n from error_logs where request_id like ?", `${t}-%`);
    const total = () => count("select count(*) as n from error_logs");
    expect(await mine()).toBe(rows + 1);

    const before = await total();
    await tick(now);
    expect(before - (await total())).toBe(PER_TICK);
    expect(await mine()).toBe(rows + 1 - PER_TICK);

    await tick(now);
    expect(await mine()).toBe(1);
    expect(await exists("error_logs", "request_id", `${t}-fresh`)).toBe(true);
  });

  it("a backlog of expired refresh tokens does not block the other tables' purges", async () => {
    const now = nextNow();
    await tick(now);
    const user = await insertUser(now);
    const t = `rt-${randomId()}`;
    await db.batch([loginSession(`${t}-s`, user, now - 91 * DAY, now - DAY)]);
    // More expired tokens of one expired sign-in than one tick deletes.
    await db.prepare(
      `insert into refresh_tokens (token_hash, login_session_id, user_id, created_at, expires_at, used_at)
       with recursive seq(i) as (select 1 union all select i + 1 from seq where i < ?)
       select ? || '-' || i, ?, ?, ? - i, ? - i, ? - i from seq`,
    ).bind(PER_TICK + 10, t, `${t}-s`, user, now - 30 * DAY, now - HOUR, now - 29 * DAY).run();
    await db.batch([errorLog(`${t}-old`, now - 91 * DAY), accountEvent(user, `${t}-old`, now - 366 * DAY)]);

    // The sign-in cannot go while some of its tokens remain (foreign key): that rule fails and the
    // tick is reported failed, but only after every other rule had its turn.
    await expect(tick(now)).rejects.toThrow(/retention/);
    const logged = await db.prepare("select message from error_logs where request_id = ?").bind(`cron:retention:${now}`).first<{ message: string }>();
    expect(logged?.message).toMatch(/login_sessions/);
    expect(logged?.message).not.toMatch(/error_logs:|account_events:/);
    // Policy §6 periods hold for the logs whatever happens to the token backlog.
    expect(await exists("error_logs", "request_id", `${t}-old`)).toBe(false);
    expect(await exists("account_events", "request_id", `${t}-old`)).toBe(false);
    expect(await count("select count(*) as n from refresh_tokens where login_session_id = ?", `${t}-s`)).toBe(10);

    // The next tick drains the rest, then the sign-in itself.
    await tick(now);
    expect(await count("select count(*) as n from refresh_tokens where login_session_id = ?", `${t}-s`)).toBe(0);
    expect(await exists("login_sessions", "id", `${t}-s`)).toBe(false);
  });
});

describe("idempotence", () => {
  it("running the same tick twice is harmless", async () => {
    const now = nextNow();
    const user = await insertUser(now);
    const t = randomId();
    await db.batch([
      singleUse(`${t}-expired`, user, now - 2 * DAY, now - DAY, null),
      singleUse(`${t}-live`, user, now - HOUR, now + HOUR, null),
      loginSession(`${t}-s`, user, now - DAY, now + DAY),
      refreshToken(`${t}-r-live`, `${t}-s`, user, now - HOUR, now + DAY, null),
      refreshToken(`${t}-r-expired`, `${t}-s`, user, now - DAY, now - HOUR, now - 2 * HOUR),
      errorLog(`${t}-e-old`, now - 91 * DAY),
      errorLog(`${t}-e-new`, now - 89 * DAY),
      accountEvent(user, `${t}-ev-new`, now - 10 * DAY),
    ]);
    const snapshot = async () =>
      Promise.all([
        db.prepare("select token_hash from single_use_tokens where token_hash like ? order by 1").bind(`${t}-%`).all(),
        db.prepare("select token_hash from refresh_tokens where token_hash like ? order by 1").bind(`${t}-%`).all(),
        db.prepare("select id from login_sessions where id like ? order by 1").bind(`${t}-%`).all(),
        db.prepare("select request_id from error_logs where request_id like ? order by 1").bind(`${t}-%`).all(),
        db.prepare("select request_id from account_events where request_id like ? order by 1").bind(`${t}-%`).all(),
      ]).then((all) => all.map((r) => r.results));

    await tick(now);
    const once = await snapshot();
    expect(once).toEqual([
      [{ token_hash: `${t}-live` }],
      [{ token_hash: `${t}-r-live` }],
      [{ id: `${t}-s` }],
      [{ request_id: `${t}-e-new` }],
      [{ request_id: `${t}-ev-new` }],
    ]);
    await expect(tick(now)).resolves.toBeUndefined();
    expect(await snapshot()).toEqual(once);
  });
});

describe("dispatch", () => {
  it("an unknown cron expression does nothing and does not throw", async () => {
    const now = nextNow();
    const t = randomId();
    await db.batch([errorLog(`${t}-old`, now - 200 * DAY)]);
    await expect(tick(now, "0 0 * * *")).resolves.toBeUndefined();
    expect(await exists("error_logs", "request_id", `${t}-old`)).toBe(true);
    // The known one does purge it, so the row above was purgeable.
    await tick(now);
    expect(await exists("error_logs", "request_id", `${t}-old`)).toBe(false);
  });

  it("CRON_JOBS covers exactly the crons in wrangler.toml", () => {
    const triggers = /^\[triggers\][^[]*?^crons\s*=\s*\[([^\]]*)\]/m.exec(wranglerToml);
    expect(triggers, "a [triggers] crons = [...] entry in wrangler.toml").not.toBeNull();
    const crons = [...triggers![1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    expect(crons.length).toBeGreaterThan(0);
    expect(Object.keys(CRON_JOBS).sort()).toEqual(crons.sort());
    for (const jobs of Object.values(CRON_JOBS)) expect(jobs.length).toBeGreaterThan(0);
  });
});
