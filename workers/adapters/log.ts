import { drizzle } from "drizzle-orm/d1";
import { accessLogs, errorLogs } from "../../schema";

export type AccessLogEntry = typeof accessLogs.$inferInsert;

interface Waiter {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Runs a log write after the response and never throws: a broken D1 binding can throw
 * synchronously from `prepare()`, and the error handler itself must still answer.
 */
const writeAfter = (waiter: Waiter, write: () => Promise<unknown>, onFailure: (error: unknown) => void) =>
  waiter.waitUntil(Promise.resolve().then(write).catch(onFailure));

/** Written after the response (waitUntil): logging never delays the answer. */
export function logAccess(d1: D1Database, waiter: Waiter, entry: AccessLogEntry): void {
  writeAfter(
    waiter,
    () => drizzle(d1).insert(accessLogs).values(entry).run(),
    (error) => console.error(JSON.stringify({ event: "access_log_failed", requestId: entry.requestId, error: error instanceof Error ? error.name : "unknown" })),
  );
}

const MAX_MESSAGE = 500;

/**
 * Error logs carry the error's class and message, never request bodies, tokens or secrets: the
 * code paths that throw build messages from names and ids only.
 */
export function logError(
  d1: D1Database,
  waiter: Waiter,
  entry: { requestId: string; source: string; code: string; message: string; userId?: string | undefined },
): void {
  const row = { ...entry, message: entry.message.slice(0, MAX_MESSAGE), userId: entry.userId ?? null, at: new Date() };
  console.error(JSON.stringify({ event: "error", requestId: row.requestId, source: row.source, code: row.code }));
  writeAfter(
    waiter,
    () => drizzle(d1).insert(errorLogs).values(row).run(),
    () => undefined,
  );
}
