import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

/**
 * Where a user's access-log lines lie in R2 (policy §1 technical data; the lines themselves are
 * objects in the LOGS bucket, docs/decisions/0037-access-logs-queue-r2.md): one row per user and
 * object, so the §7 export reads that user's objects only and an account's deletion finds the
 * lines whose IP it must clear. Anonymous lines have no row: no export or deletion asks for them.
 */
export const accessLogObjects = sqliteTable(
  "access_log_objects",
  {
    userId: text("user_id").notNull(),
    /** UTC midnight of the object's day partition: the 90-day rule removes the row with the prefix. */
    day: timestamp("day").notNull(),
    key: text("key").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index("access_log_objects_day_idx").on(t.day)],
);

/**
 * The hours of a user bucket that hold batch objects not yet merged into per-user objects: the
 * hourly compaction's work list (no personal data: a day, a bucket, an hour).
 */
export const accessLogSlots = sqliteTable(
  "access_log_slots",
  {
    day: timestamp("day").notNull(),
    bucket: text("bucket").notNull(),
    hour: integer("hour").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.bucket, t.hour] })],
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
