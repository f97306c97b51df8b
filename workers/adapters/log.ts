/**
 * The log adapter: access-log lines to their Queue (consumed into R2, workers/domain/access-logs),
 * error logs in D1 (policy §1 technical data, §6 kept 90 days) and structured console lines.
 * Written after the answer (waitUntil) and never throwing: logging never delays or breaks a
 * response. Entries carry codes and ids, never bodies, tokens, passwords or email addresses.
 */
import { drizzle } from "drizzle-orm/d1";
import { errorLogs } from "../../schema";

/** One request's access-log line, keyed by the names the export has always used; `at` in Unix ms. */
export interface AccessLine {
  at: number;
  request_id: string;
  ip: string | null;
  user_agent: string | null;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
}

interface Waiter {
  waitUntil(promise: Promise<unknown>): void;
}

export interface ErrorEntry {
  /** What failed: request, cron, provisioner, cold-storage, stripe, … */
  source: string;
  code: string;
  message: string;
  /** The user concerned; defaults to the user acting, if any. */
  userId?: string | null;
}

export interface Log {
  /** An error_logs row and a console line. */
  error(entry: ErrorEntry): void;
  /** A console line only (Workers Logs), with the request id. */
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
}

/** A broken D1 binding can throw synchronously from `prepare()`, and the error handler itself must still answer. */
const writeAfter = (waiter: Waiter, write: () => Promise<unknown>, onFailure: (error: unknown) => void) =>
  waiter.waitUntil(Promise.resolve().then(write).catch(onFailure));

/** Sent after the answer: a Queue send is one subrequest, where a D1 insert was a write to the one database. */
export function logAccess(queue: Queue<AccessLine>, waiter: Waiter, line: AccessLine): void {
  writeAfter(
    waiter,
    () => queue.send(line, { contentType: "json" }),
    (error) => console.error(JSON.stringify({ event: "access_log_failed", requestId: line.request_id, error: error instanceof Error ? error.name : "unknown" })),
  );
}

const MAX_MESSAGE = 500;

/** The log of one request or job: every line and row carries its request id. */
export function createLog(d1: D1Database, waiter: Waiter, requestId: string, actingUserId: () => string | undefined = () => undefined): Log {
  const line = (event: string, fields: Record<string, unknown> = {}) => JSON.stringify({ event, requestId, ...fields });
  return {
    error(entry) {
      const row = { requestId, source: entry.source, code: entry.code, message: entry.message.slice(0, MAX_MESSAGE), userId: entry.userId !== undefined ? entry.userId : (actingUserId() ?? null), at: new Date() };
      console.error(line("error", { source: row.source, code: row.code }));
      writeAfter(
        waiter,
        () => drizzle(d1).insert(errorLogs).values(row).run(),
        () => undefined,
      );
    },
    info: (event, fields) => console.info(line(event, fields)),
    warn: (event, fields) => console.warn(line(event, fields)),
  };
}

/** Names and codes along the `cause` chain (D1 puts the SQLite error there), never a message. */
export function errorNames(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = "code" in e && (typeof e.code === "string" || typeof e.code === "number") ? ` ${String(e.code).slice(0, 64)}` : "";
    parts.push(`${e.name}${code}`);
  }
  return parts.join(" <- ") || "unknown";
}
