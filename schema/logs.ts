import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

/** Policy §1 "Technical data": one row per request; no bodies, no query strings, no headers but the UA. */
export const accessLogs = sqliteTable(
  "access_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: timestamp("at").notNull(),
    requestId: text("request_id").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    method: text("method").notNull(),
    path: text("path").notNull(),
    status: integer("status").notNull(),
    durationMs: integer("duration_ms").notNull(),
    userId: text("user_id"),
  },
  // By request id too: an account's deletion clears the IP of the requests its audit rows name.
  (t) => [index("access_logs_at_idx").on(t.at), index("access_logs_user_idx").on(t.userId), index("access_logs_request_idx").on(t.requestId)],
);

/** Error logs for troubleshooting, joined to the access log by request id. */
export const errorLogs = sqliteTable(
  "error_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: timestamp("at").notNull(),
    requestId: text("request_id").notNull(),
    source: text("source").notNull(),
    code: text("code").notNull(),
    message: text("message").notNull(),
    userId: text("user_id"),
  },
  (t) => [index("error_logs_at_idx").on(t.at)],
);
