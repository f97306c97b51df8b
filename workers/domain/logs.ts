import { drizzle } from "drizzle-orm/d1";
import { accessLogs, errorLogs } from "../../schema";

export type AccessLogEntry = typeof accessLogs.$inferInsert;

interface Waiter {
  waitUntil(promise: Promise<unknown>): void;
}

/** Written after the response (waitUntil): logging never delays the answer. */
export function logAccess(d1: D1Database, waiter: Waiter, entry: AccessLogEntry): void {
  waiter.waitUntil(
    drizzle(d1)
      .insert(accessLogs)
      .values(entry)
      .run()
      .catch((error: unknown) => console.error(JSON.stringify({ event: "access_log_failed", requestId: entry.requestId, error: String(error) }))),
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
  waiter.waitUntil(
    drizzle(d1)
      .insert(errorLogs)
      .values(row)
      .run()
      .catch(() => undefined),
  );
}
