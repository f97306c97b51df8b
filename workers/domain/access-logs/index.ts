/**
 * Access logs (policy §1 technical data, §6 kept 90 days) off D1 (docs/decisions/0037-access-logs-queue-r2.md):
 * each request's line goes to a Queue; its consumer writes each batch as gzip NDJSON objects to R2,
 * one per UTC day, hour and user bucket, and indexes the objects per user in D1 (`access_log_objects`).
 * Once an hour is over, the hourly compaction merges each bucket-hour's batch objects into one
 * object per user, so the index keeps a row per user and active hour rather than per batch.
 * The 90-day rule deletes whole day prefixes; the §7 export reads the user's objects through the
 * index; an account's deletion rewrites its objects without the IPs and user agents.
 */
import { and, asc, eq, gt, inArray, isNotNull, lt, or, sql } from "drizzle-orm";
import { accessLogObjects, accessLogSlots, users } from "../../../schema";
import { daysToMs } from "../../../schema/inventory";
import { ACCESS_PREFIX, DEAD_LETTER_PREFIX, dayOf, slotPrefix, userBucket, userObjectKey } from "../../../schema/log-objects";
import type { AccessLine } from "../../adapters/log";
import { accountEmails } from "../../adapters/email";
import type { DomainContext } from "../context";
import { adminAddresses } from "../owned";

export type { AccessLine };
export { ACCESS_PREFIX, DEAD_LETTER_PREFIX, dayOf, USER_BUCKETS, userBucket } from "../../../schema/log-objects";

/** A queue message: its id is stable across redeliveries, so a retried batch writes the same keys. */
export interface AccessMessage {
  id: string;
  line: AccessLine;
}

export const ACCESS_LOG_DAYS = 90;
/** D1 binds at most 100 values per statement: 3 columns a row. */
const INDEX_ROWS_PER_INSERT = 33;
/** Index rows read per query by the export and the deletion scrub. */
const PAGE = 100;

const dayStart = (day: string) => new Date(`${day}T00:00:00.000Z`);
const hourOf = (at: number) => new Date(at).getUTCHours();
const HOUR_MS = 3_600_000;
/** A bucket-hour is merged this long after it ends: lines still in the queue (max_batch_timeout, a retry) land first. */
export const COMPACT_AFTER_MS = 10 * 60_000;

/** The same message ids give the same name: a redelivered batch overwrites its object, never adds one. */
async function batchName(ids: string[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode([...ids].sort().join("\n")));
  return `${[...new Uint8Array(digest).slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}.ndjson.gz`;
}

async function gzip(records: unknown[]): Promise<ArrayBuffer> {
  const text = records.map((r) => JSON.stringify(r)).join("\n");
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer();
}

/** An object's records, or null when it is gone (a prefix purged meanwhile). */
async function readRecords<T>(bucket: R2Bucket, key: string): Promise<T[] | null> {
  const object = await bucket.get(key);
  if (!object) return null;
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line) as T);
}

const forget = (line: AccessLine): AccessLine => ({ ...line, ip: null, user_agent: null });

async function deletedAmong(ctx: DomainContext, userIds: string[]): Promise<Set<string>> {
  const ids = [...new Set(userIds)];
  const deleted = new Set<string>();
  for (let i = 0; i < ids.length; i += 90) {
    const rows = await ctx.db
      .select({ id: users.id })
      .from(users)
      .where(and(inArray(users.id, ids.slice(i, i + 90)), isNotNull(users.deletedAt)));
    for (const row of rows) deleted.add(row.id);
  }
  return deleted;
}

/**
 * The consumer's work for one batch: index rows first, then the objects. A crash between the two
 * leaves an index row naming a missing object (the export skips it) and the redelivery writes it;
 * the other order could leave an object no index names, whose IPs a deletion would not find.
 * A deleted account's lines are written without IP and user agent and not indexed: a line queued
 * before the deletion and delivered after it keeps the deletion's promise all the same.
 */
export async function writeAccessLines(ctx: DomainContext, messages: readonly AccessMessage[]): Promise<{ lines: number; objects: number }> {
  if (messages.length === 0) return { lines: 0, objects: 0 };
  const deleted = await deletedAmong(
    ctx,
    messages.flatMap((m) => (m.line.user_id === null ? [] : [m.line.user_id])),
  );
  const groups = new Map<string, { day: string; bucket: string; hour: number; messages: AccessMessage[] }>();
  for (const message of messages) {
    const line = message.line.user_id !== null && deleted.has(message.line.user_id) ? forget(message.line) : message.line;
    const day = dayOf(line.at);
    const bucket = userBucket(line.user_id);
    const hour = hourOf(line.at);
    const name = slotPrefix(day, bucket, hour);
    const group = groups.get(name) ?? { day, bucket, hour, messages: [] };
    group.messages.push({ id: message.id, line });
    groups.set(name, group);
  }
  const objects = await Promise.all(
    [...groups.entries()].map(async ([prefix, group]) => ({ ...group, key: `${prefix}${await batchName(group.messages.map((m) => m.id))}` })),
  );
  const indexRows = objects.flatMap((object) =>
    [...new Set(object.messages.flatMap((m) => (m.line.user_id === null || deleted.has(m.line.user_id) ? [] : [m.line.user_id])))].map((userId) => ({
      userId,
      day: dayStart(object.day),
      key: object.key,
    })),
  );
  for (let i = 0; i < indexRows.length; i += INDEX_ROWS_PER_INSERT) {
    await ctx.db.insert(accessLogObjects).values(indexRows.slice(i, i + INDEX_ROWS_PER_INSERT)).onConflictDoNothing().run();
  }
  // Anonymous lines are nobody's to export: their objects stay as written, with no index to shrink.
  const slots = objects.filter((o) => o.bucket !== "anon").map((o) => ({ day: dayStart(o.day), bucket: o.bucket, hour: o.hour }));
  for (let i = 0; i < slots.length; i += INDEX_ROWS_PER_INSERT) {
    await ctx.db.insert(accessLogSlots).values(slots.slice(i, i + INDEX_ROWS_PER_INSERT)).onConflictDoNothing().run();
  }
  await Promise.all(objects.map(async (object) => ctx.logStore.put(object.key, await gzip(object.messages.map((m) => m.line)), { httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" } })));
  return { lines: messages.length, objects: objects.length };
}

/**
 * The dead-letter queue's consumer: keeps what failed, as it came, for the daily job to replay.
 * R2 alone, no settings and no D1: what made the batch fail (a missing secret, D1 down) must not
 * lose it here too.
 */
export async function storeDeadLetters(logStore: R2Bucket, messages: readonly AccessMessage[]): Promise<{ objects: number }> {
  const byDay = new Map<string, AccessMessage[]>();
  for (const message of messages) {
    const day = dayOf(message.line.at);
    byDay.set(day, [...(byDay.get(day) ?? []), message]);
  }
  for (const [day, dayMessages] of byDay) {
    await logStore.put(`${DEAD_LETTER_PREFIX}day=${day}/${await batchName(dayMessages.map((m) => m.id))}`, await gzip(dayMessages));
  }
  return { objects: byDay.size };
}

async function* listKeys(bucket: R2Bucket, prefix: string): AsyncGenerator<string> {
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    for (const object of page.objects) yield object.key;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}

export interface DeadLetterReport {
  replayed: number;
  /** Objects still in `access-dlq/` after this run: each one failed again. */
  left: number;
  lines: number;
}

/**
 * Daily: the dead letters are written again through the consumer's path (once the failure that
 * sent them there is gone, they land where the export reads them) and deleted; the admins hear of
 * those that fail again.
 */
export async function replayDeadLetters(ctx: DomainContext): Promise<DeadLetterReport> {
  const report: DeadLetterReport = { replayed: 0, left: 0, lines: 0 };
  for await (const key of listKeys(ctx.logStore, DEAD_LETTER_PREFIX)) {
    const messages = await readRecords<AccessMessage>(ctx.logStore, key);
    try {
      if (messages) await writeAccessLines(ctx, messages);
      await ctx.logStore.delete(key);
      report.replayed += 1;
    } catch (error) {
      report.left += 1;
      report.lines += messages?.length ?? 0;
      ctx.log.warn("access_log_replay_failed", { error: error instanceof Error ? error.name : "unknown" });
    }
  }
  return report;
}

/** The daily job: replays the dead letters, and emails the admins while some still fail. */
export async function reportDeadLetters(ctx: DomainContext): Promise<DeadLetterReport & { warned: number }> {
  const report = await replayDeadLetters(ctx);
  if (report.left === 0) return { ...report, warned: 0 };
  const admins = await adminAddresses(ctx);
  const email = accountEmails.accessLogDeadLetters({ objects: report.left, lines: report.lines });
  for (const address of admins) ctx.email.send(address, email);
  return { ...report, warned: admins.length };
}

/**
 * Policy §6, exactly by day: a day's prefix goes on the day it turns 90 (the first hourly tick
 * once its midnight is 90 days back), in `access/` and `access-dlq/` alike. The index rows go
 * with the inventory's time rule on `access_log_objects.day`, which uses the same cutoff.
 */
export async function purgeExpiredAccessLogs(ctx: DomainContext): Promise<{ days: string[]; objects: number }> {
  const cutoff = ctx.clock.now().getTime() - daysToMs(ACCESS_LOG_DAYS);
  const purged: string[] = [];
  let objects = 0;
  for (const prefix of [ACCESS_PREFIX, DEAD_LETTER_PREFIX]) {
    const expired: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await ctx.logStore.list({ prefix, delimiter: "/", cursor });
      for (const dayPrefix of page.delimitedPrefixes) {
        const day = /day=(\d{4}-\d{2}-\d{2})\/$/.exec(dayPrefix)?.[1];
        if (day && dayStart(day).getTime() < cutoff) expired.push(dayPrefix);
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
    for (const dayPrefix of expired) {
      let keys: string[] = [];
      for await (const key of listKeys(ctx.logStore, dayPrefix)) {
        keys.push(key);
        if (keys.length === 1000) {
          await ctx.logStore.delete(keys);
          objects += keys.length;
          keys = [];
        }
      }
      if (keys.length > 0) await ctx.logStore.delete(keys);
      objects += keys.length;
      purged.push(dayPrefix);
    }
  }
  await ctx.db.delete(accessLogObjects).where(lt(accessLogObjects.day, new Date(cutoff))).run();
  await ctx.db.delete(accessLogSlots).where(lt(accessLogSlots.day, new Date(cutoff))).run();
  return { days: purged, objects };
}

/**
 * A deleted account's lines lose their IP and user agent (policy §7 deletion, as the D1 rows did):
 * each object its index rows name is rewritten, then those rows go. Bounded per call; what is
 * left is done by the next one (the every-minute job), so the deletion itself never waits on R2.
 */
export async function forgetDeletedAccountsLines(ctx: DomainContext, limit = PAGE): Promise<{ objects: number }> {
  const rows = await ctx.db
    .select({ userId: accessLogObjects.userId, key: accessLogObjects.key })
    .from(accessLogObjects)
    .innerJoin(users, eq(users.id, accessLogObjects.userId))
    .where(isNotNull(users.deletedAt))
    .limit(limit);
  const byKey = new Map<string, Set<string>>();
  for (const row of rows) byKey.set(row.key, (byKey.get(row.key) ?? new Set()).add(row.userId));
  for (const [key, userIds] of byKey) {
    const lines = await readRecords<AccessLine>(ctx.logStore, key);
    if (lines) await ctx.logStore.put(key, await gzip(lines.map((line) => (line.user_id !== null && userIds.has(line.user_id) ? forget(line) : line))));
    await ctx.db
      .delete(accessLogObjects)
      .where(and(eq(accessLogObjects.key, key), inArray(accessLogObjects.userId, [...userIds])))
      .run();
  }
  return { objects: byKey.size };
}

/**
 * The user's lines for the §7 export, one object's worth at a time (memory holds one object and
 * one day's request ids, whatever the history). Delivery is at least once, so a line can be in two
 * objects of its day: it is handed out once. Lines waiting in `access-dlq/` (normally none) are
 * included too: the export is complete even while a failure is unresolved.
 */
export async function* userAccessLines(ctx: DomainContext, userId: string): AsyncGenerator<AccessLine[]> {
  const waiting = new Set<string>();
  for await (const key of listKeys(ctx.logStore, DEAD_LETTER_PREFIX)) {
    const mine = ((await readRecords<AccessMessage>(ctx.logStore, key)) ?? []).map((m) => m.line).filter((line) => line.user_id === userId && !waiting.has(line.request_id));
    for (const line of mine) waiting.add(line.request_id);
    if (mine.length > 0) yield mine;
  }
  let after: { day: Date; key: string } | null = null;
  let seen = new Set<string>();
  let seenDay = 0;
  for (;;) {
    const page: { day: Date; key: string }[] = await ctx.db
      .select({ day: accessLogObjects.day, key: accessLogObjects.key })
      .from(accessLogObjects)
      .where(
        and(
          eq(accessLogObjects.userId, userId),
          after ? or(gt(accessLogObjects.day, after.day), and(eq(accessLogObjects.day, after.day), gt(accessLogObjects.key, after.key))) : sql`1 = 1`,
        ),
      )
      .orderBy(asc(accessLogObjects.day), asc(accessLogObjects.key))
      .limit(PAGE);
    for (const object of page) {
      if (object.day.getTime() !== seenDay) {
        seen = new Set();
        seenDay = object.day.getTime();
      }
      const lines = (await readRecords<AccessLine>(ctx.logStore, object.key)) ?? [];
      const mine = lines.filter((line) => line.user_id === userId && !seen.has(line.request_id) && !waiting.has(line.request_id));
      for (const line of mine) seen.add(line.request_id);
      if (mine.length > 0) yield mine;
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]!;
  }
}

/**
 * Hourly: every bucket-hour that ended at least COMPACT_AFTER_MS ago and holds batch objects is
 * merged into one object per user (`user-<id>`, merged with what an earlier run wrote there), the
 * user's index rows for the batches replaced by one for that object, then the batches deleted.
 * Each step can be repeated: a run cut short leaves lines in both places (the export shows each
 * once) and its slot row, and the next run finishes it. Lines that arrive late reopen the slot; a
 * batch written during the run is left, indexed, for the next one (only listed batches are touched).
 */
export async function compactAccessLogs(ctx: DomainContext, maxSlots = 64): Promise<{ slots: number; lines: number; objects: number }> {
  const before = new Date(ctx.clock.now().getTime() - COMPACT_AFTER_MS - HOUR_MS);
  const slots = await ctx.db.select().from(accessLogSlots).orderBy(asc(accessLogSlots.day), asc(accessLogSlots.hour)).limit(maxSlots * 4);
  const due = slots.filter((slot) => slot.day.getTime() + slot.hour * HOUR_MS < before.getTime()).slice(0, maxSlots);
  const done = { slots: 0, lines: 0, objects: 0 };
  for (const slot of due) {
    const prefix = slotPrefix(dayOf(slot.day.getTime()), slot.bucket, slot.hour);
    const listBatches = async () => {
      const keys: string[] = [];
      for await (const key of listKeys(ctx.logStore, prefix)) if (!key.slice(prefix.length).startsWith("user-")) keys.push(key);
      return keys;
    };
    const batches = await listBatches();
    const byUser = new Map<string, AccessLine[]>();
    const keysOf = new Map<string, Set<string>>();
    for (const key of batches) {
      for (const line of (await readRecords<AccessLine>(ctx.logStore, key)) ?? []) {
        if (line.user_id === null) continue;
        byUser.set(line.user_id, [...(byUser.get(line.user_id) ?? []), line]);
        keysOf.set(line.user_id, (keysOf.get(line.user_id) ?? new Set()).add(key));
      }
    }
    const deleted = await deletedAmong(ctx, [...byUser.keys()]);
    for (const [userId, lines] of byUser) {
      const key = userObjectKey(prefix, userId);
      const merged = new Map<string, AccessLine>();
      for (const line of [...((await readRecords<AccessLine>(ctx.logStore, key)) ?? []), ...lines]) if (!merged.has(line.request_id)) merged.set(line.request_id, line);
      const stored = [...merged.values()].sort((a, b) => a.at - b.at).map((line) => (deleted.has(userId) ? forget(line) : line));
      await ctx.logStore.put(key, await gzip(stored), { httpMetadata: { contentType: "application/x-ndjson", contentEncoding: "gzip" } });
      if (!deleted.has(userId)) await ctx.db.insert(accessLogObjects).values({ userId, day: slot.day, key }).onConflictDoNothing().run();
      const mergedKeys = [...(keysOf.get(userId) ?? [])];
      for (let i = 0; i < mergedKeys.length; i += 90) {
        await ctx.db
          .delete(accessLogObjects)
          .where(and(eq(accessLogObjects.userId, userId), inArray(accessLogObjects.key, mergedKeys.slice(i, i + 90))))
          .run();
      }
      done.lines += stored.length;
      done.objects += 1;
    }
    for (let i = 0; i < batches.length; i += 1000) await ctx.logStore.delete(batches.slice(i, i + 1000));
    // A batch the consumer wrote meanwhile found the slot row there (and added none): keep it for the next run.
    if ((await listBatches()).length > 0) continue;
    await ctx.db
      .delete(accessLogSlots)
      .where(and(eq(accessLogSlots.day, slot.day), eq(accessLogSlots.bucket, slot.bucket), eq(accessLogSlots.hour, slot.hour)))
      .run();
    done.slots += 1;
  }
  return done;
}
