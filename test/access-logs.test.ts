/**
 * Access logs through the Queue into R2 (workers/queue.ts, workers/domain/access-logs): the real
 * producer and consumer, the day and user-bucket partitions and their index, the 90-day rule by
 * whole day prefixes, a consumer that fails midway, the dead-letter path, and the §7 export
 * reading one user's lines only.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { AccessLine } from "../workers/adapters/log";
import { ACCESS_PREFIX, DEAD_LETTER_PREFIX, dayOf, userBucket } from "../workers/domain/access-logs";
import { ACCESS_LOG_DEAD_LETTER_QUEUE_NAME } from "../workers/queue";
import { call, consumeAccessBatch, createUser, drainAccessLog, logObjectKeys, outbox, randomId, readLogObject, runCron, testEnv } from "./harness";

const DAY = 86_400_000;
const HOURLY = "17 * * * *";
const DAILY = "0 8 * * *";

const line = (userId: string | null, at: number, requestId = `r-${randomId()}`): AccessLine => ({
  at,
  request_id: requestId,
  ip: "10.1.2.3",
  user_agent: "test-agent",
  method: "GET",
  path: "/v1/account",
  status: 200,
  duration_ms: 2,
  user_id: userId,
});

const messages = (lines: AccessLine[]) => lines.map((body) => ({ id: `id-${body.request_id}`, body }));

const indexRows = async (userId: string) =>
  (await env.DB.prepare("select day, key from access_log_objects where user_id = ? order by day, key").bind(userId).all<{ day: number; key: string }>()).results;

/** The user's export, after every line the test's own requests made is stored. */
async function exportedLines(token: string): Promise<AccessLine[]> {
  await drainAccessLog();
  const res = await call("GET", "/v1/privacy/export", { token });
  expect(res.status, res.text).toBe(200);
  return res.json.tables.access_logs;
}

/** The LOGS binding, its `put` failing on the calls `failing` says (R2 fault simulation). */
function failingPuts(failing: (call: number) => boolean): R2Bucket {
  const real = env.LOGS;
  let calls = 0;
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "put")
        return (...args: Parameters<R2Bucket["put"]>) => {
          calls += 1;
          return failing(calls) ? Promise.reject(new Error("R2 is unavailable")) : target.put(...args);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Another user id in the same bucket as `userId`: their lines of a day share objects. */
function idInBucketOf(userId: string): string {
  for (;;) {
    const id = crypto.randomUUID();
    if (userBucket(id) === userBucket(userId)) return id;
  }
}

describe("the real queue", () => {
  it("a line sent to the ACCESS_LOG_QUEUE binding reaches R2 through the queue() handler", async () => {
    const userId = crypto.randomUUID();
    const sent = line(userId, Date.now());
    await env.ACCESS_LOG_QUEUE.send(sent, { contentType: "json" });
    // Delivered by the local queue broker after max_batch_timeout (wrangler.toml), not by this test.
    await vi.waitFor(
      async () => {
        const [row] = await indexRows(userId);
        expect(row).toBeDefined();
        expect(await readLogObject(row!.key)).toContainEqual(sent);
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});

describe("partitions and index", () => {
  it("writes one gzip NDJSON object per UTC day, hour and user bucket, anonymous lines in their own, indexed per user and day", async () => {
    const user = crypto.randomUUID();
    const day1 = Date.UTC(2030, 4, 1, 23, 59);
    const day2 = day1 + 2 * 60_000;
    const lines = [line(user, day1), line(user, day2), line(null, day1)];
    const result = await consumeAccessBatch(messages(lines));
    expect(result.ackAll).toBe(true);
    const rows = await indexRows(user);
    expect(rows.map((r) => r.day)).toEqual([Date.UTC(2030, 4, 1), Date.UTC(2030, 4, 2)]);
    expect(rows[0]!.key).toMatch(new RegExp(`^access/day=2030-05-01/u=${userBucket(user)}/h=23/[0-9a-f]{32}\\.ndjson\\.gz$`));
    expect(rows[1]!.key).toMatch(/^access\/day=2030-05-02\/u=\d\d\/h=00\//);
    expect(await readLogObject(rows[0]!.key)).toEqual([lines[0]]);
    const anonymous = await logObjectKeys(`${ACCESS_PREFIX}day=2030-05-01/u=anon/h=23/`);
    expect(anonymous).toHaveLength(1);
    expect(await readLogObject(anonymous[0]!)).toEqual([lines[2]]);
    const object = await env.LOGS.head(rows[0]!.key);
    expect(object?.httpMetadata?.contentEncoding).toBe("gzip");
  });
});

describe("hourly compaction", () => {
  it("merges a bucket-hour's batches into one object per user, one index row each, once the hour is over; late lines are merged on the next run", async () => {
    const user = await createUser();
    const neighbour = idInBucketOf(user.id);
    const hour = Date.UTC(2030, 10, 5, 14);
    const bucketHour = `${ACCESS_PREFIX}day=2030-11-05/u=${userBucket(user.id)}/h=14/`;
    const mine = Array.from({ length: 12 }, (_, i) => line(user.id, hour + i * 60_000));
    const theirs = Array.from({ length: 5 }, (_, i) => line(neighbour, hour + i * 60_000 + 1));
    // Four batches, as four deliveries of the queue; a line of the user delivered twice.
    for (const part of [mine.slice(0, 4), [...mine.slice(4, 8), ...theirs], mine.slice(8), [mine[0]!]]) {
      expect((await consumeAccessBatch(messages(part).map((m, i) => ({ ...m, id: `${m.id}-${i}-${part.length}` })))).ackAll).toBe(true);
    }
    expect((await indexRows(user.id)).length).toBe(4);

    // Not before the hour is over and its margin passed.
    await runCron(HOURLY, hour + 60 * 60_000 + 5 * 60_000);
    expect((await indexRows(user.id)).length).toBe(4);
    await runCron(HOURLY, hour + 60 * 60_000 + 17 * 60_000);
    expect(await logObjectKeys(bucketHour)).toEqual([`${bucketHour}user-${neighbour}.ndjson.gz`, `${bucketHour}user-${user.id}.ndjson.gz`].sort());
    expect((await indexRows(user.id)).map((r) => r.key)).toEqual([`${bucketHour}user-${user.id}.ndjson.gz`]);
    expect(await readLogObject(`${bucketHour}user-${user.id}.ndjson.gz`)).toEqual(mine);
    expect(await readLogObject(`${bucketHour}user-${neighbour}.ndjson.gz`)).toEqual(theirs);

    const late = line(user.id, hour + 59 * 60_000);
    expect((await consumeAccessBatch(messages([late]))).ackAll).toBe(true);
    await runCron(HOURLY, hour + 2 * 60 * 60_000 + 17 * 60_000);
    expect((await indexRows(user.id)).map((r) => r.key)).toEqual([`${bucketHour}user-${user.id}.ndjson.gz`]);
    expect(await readLogObject(`${bucketHour}user-${user.id}.ndjson.gz`)).toEqual([...mine, late]);
    const exported = (await exportedLines(user.accessToken)).filter((l) => l.request_id.startsWith("r-"));
    expect(exported.map((l) => l.request_id).sort()).toEqual([...mine, late].map((l) => l.request_id).sort());
  });
});

describe("policy §6: 90 days, by whole day prefixes", () => {
  it("moving the clock across partitions: day 89 kept, days 90 and 91 gone, with their index rows and dead letters", async () => {
    const user = crypto.randomUUID();
    const now = Date.UTC(2032, 6, 10, 0, 17);
    const at = (days: number) => now - days * DAY + 3_600_000;
    const kept = [line(user, at(89)), line(null, at(89))];
    const gone = [line(user, at(90)), line(user, at(91)), line(null, at(91))];
    expect((await consumeAccessBatch(messages([...kept, ...gone]))).ackAll).toBe(true);
    expect((await consumeAccessBatch(messages([line(user, at(91))]), ACCESS_LOG_DEAD_LETTER_QUEUE_NAME)).ackAll).toBe(true);
    const prefix = (days: number) => `day=${dayOf(at(days))}/`;
    expect(await logObjectKeys(`${ACCESS_PREFIX}${prefix(91)}`)).toHaveLength(2);

    // A day earlier nothing is due yet but day 91; then the clock reaches the day the others turn 90.
    await runCron(HOURLY, now - DAY);
    expect(await logObjectKeys(`${ACCESS_PREFIX}${prefix(91)}`)).toEqual([]);
    expect(await logObjectKeys(`${ACCESS_PREFIX}${prefix(90)}`)).toHaveLength(1);
    await runCron(HOURLY, now);
    for (const days of [90, 91]) {
      expect(await logObjectKeys(`${ACCESS_PREFIX}${prefix(days)}`), `day ${days}`).toEqual([]);
      expect(await logObjectKeys(`${DEAD_LETTER_PREFIX}${prefix(days)}`), `dead letters of day ${days}`).toEqual([]);
    }
    const left = await logObjectKeys(`${ACCESS_PREFIX}${prefix(89)}`);
    expect(left).toHaveLength(2);
    const stored = (await Promise.all(left.map((k) => readLogObject(k)))).flat();
    expect(stored.map((l) => l.request_id).sort()).toEqual(kept.map((l) => l.request_id).sort());
    expect((await indexRows(user)).map((r) => dayOf(r.day))).toEqual([dayOf(at(89))]);
  });
});

describe("a consumer that fails midway", () => {
  it("loses and duplicates nothing the export shows: the redelivery overwrites, a line in two batches is shown once", async () => {
    const user = await createUser();
    const base = Date.UTC(2030, 7, 1, 12);
    // Lines of three days: three objects, the second put failing after the index rows were written.
    const lines = Array.from({ length: 30 }, (_, i) => line(user.id, base + (i % 3) * DAY + i));
    const batch = messages(lines);
    await expect(consumeAccessBatch(batch, undefined, { ...testEnv(), LOGS: failingPuts((n) => n === 2) })).rejects.toThrow(/R2 is unavailable/);
    // The queue redelivers the batch whole, same message ids; and delivery being at least once,
    // some of its messages arrive again in another batch beside a new one.
    const late = line(user.id, base + 5);
    expect((await consumeAccessBatch(batch.map((m) => ({ ...m, attempts: 2 })))).ackAll).toBe(true);
    expect((await consumeAccessBatch([...batch.slice(0, 7), ...messages([late])])).ackAll).toBe(true);

    const exported = (await exportedLines(user.accessToken)).filter((l) => l.request_id.startsWith("r-"));
    const expected = [...lines, late].map((l) => l.request_id).sort();
    expect(exported.map((l) => l.request_id).sort()).toEqual(expected);
    expect(exported).toEqual(expect.arrayContaining([...lines, late]));
  });
});

describe("the dead-letter queue", () => {
  it("keeps what failed under access-dlq/, in the export meanwhile; the daily job replays it, and tells the admins while it fails", async () => {
    const user = await createUser();
    const admin = await createUser();
    await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
    const dead = [line(user.id, Date.UTC(2030, 8, 1)), line(user.id, Date.UTC(2030, 8, 2))];
    // A missing secret fails the consumer (retried, then dead-lettered); the dead-letter consumer needs only R2.
    const { PASSWORD_PEPPER: _pepper, ...unconfigured } = testEnv();
    await expect(consumeAccessBatch(messages(dead), undefined, unconfigured as Cloudflare.Env)).rejects.toThrow(/PASSWORD_PEPPER/);
    expect((await consumeAccessBatch(messages(dead), ACCESS_LOG_DEAD_LETTER_QUEUE_NAME, unconfigured as Cloudflare.Env)).ackAll).toBe(true);
    expect(await logObjectKeys(DEAD_LETTER_PREFIX)).toHaveLength(2);
    expect((await exportedLines(user.accessToken)).filter((l) => l.request_id.startsWith("r-"))).toEqual(expect.arrayContaining(dead));

    const now = Date.UTC(2030, 8, 3, 8);
    const mails = () => outbox.filter((m) => m.to === admin.email && /access-log lines could not be stored/.test(m.subject));
    await runCron(DAILY, now, { LOGS: failingPuts(() => true) });
    expect(await logObjectKeys(DEAD_LETTER_PREFIX)).toHaveLength(2);
    expect(mails()).toHaveLength(1);
    expect(mails()[0]!.text).toContain("2 lines (2 dead-letter objects");

    await runCron(DAILY, now + DAY);
    expect(await logObjectKeys(DEAD_LETTER_PREFIX)).toEqual([]);
    expect(mails()).toHaveLength(1);
    const exported = (await exportedLines(user.accessToken)).filter((l) => l.request_id.startsWith("r-"));
    expect(exported.map((l) => l.request_id).sort()).toEqual(dead.map((l) => l.request_id).sort());
  });
});

describe("an account's deletion", () => {
  it("the every-minute job rewrites what the deletion left: its lines lose IP and user agent, its index rows go, the neighbours' lines stay", async () => {
    const user = await createUser();
    const neighbour = idInBucketOf(user.id);
    const at = Date.UTC(2030, 11, 1, 9);
    const lines = [line(user.id, at), line(neighbour, at + 1), line(user.id, at + DAY)];
    expect((await consumeAccessBatch(messages(lines))).ackAll).toBe(true);
    const keys = (await indexRows(user.id)).map((r) => r.key);
    expect(keys).toHaveLength(2);
    // Deleted without the deletion's own first pass (a Worker stopped right after its batch).
    await env.DB.prepare("update users set deleted_at = ? where id = ?").bind(Date.now(), user.id).run();
    await runCron("* * * * *", Date.now()).catch(() => undefined);
    expect(await indexRows(user.id)).toEqual([]);
    const stored = (await Promise.all(keys.map((k) => readLogObject(k)))).flat();
    expect(stored.filter((l) => l.user_id === user.id).map((l) => [l.request_id, l.ip, l.user_agent])).toEqual([
      [lines[0]!.request_id, null, null],
      [lines[2]!.request_id, null, null],
    ]);
    expect(stored.find((l) => l.user_id === neighbour)).toEqual(lines[1]);
  });
});

describe("policy §7 export", () => {
  it("hands out the user's lines, none of another user's, even of one whose lines share the same objects", async () => {
    const user = await createUser();
    const other = await createUser();
    const neighbour = idInBucketOf(user.id);
    const at = Date.UTC(2030, 9, 1, 10);
    const lines = [line(user.id, at), line(neighbour, at + 1), line(user.id, at + DAY), line(other.id, at + DAY)];
    expect((await consumeAccessBatch(messages(lines))).ackAll).toBe(true);
    const [object] = await indexRows(neighbour);
    expect((await readLogObject(object!.key)).map((l) => l.user_id).sort()).toEqual([user.id, neighbour].sort());
    expect((await indexRows(user.id)).map((r) => r.key)).toContain(object!.key);

    const exported = await exportedLines(user.accessToken);
    expect(exported.every((l) => l.user_id === user.id)).toBe(true);
    expect(exported).toEqual(expect.arrayContaining([lines[0], lines[2]]));
    // The user's own requests (sign-up, sign-in) are there too, with their IP.
    expect(exported.some((l) => l.path === "/v1/auth/signup" && l.ip === user.ip)).toBe(true);
    const theirs = await exportedLines(other.accessToken);
    expect(theirs.some((l) => l.request_id === lines[3]!.request_id)).toBe(true);
    expect(theirs.every((l) => l.user_id === other.id)).toBe(true);
  });
});
