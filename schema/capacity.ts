import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

/**
 * The database's own size, measured once a day: D1 has a hard size limit, and the admins hear of
 * it before writes start failing. One row per UTC day, so a repeated tick updates the same row.
 */
export const databaseStats = sqliteTable("database_stats", {
  /** UTC midnight of the day measured. */
  day: timestamp("day").primaryKey(),
  measuredAt: timestamp("measured_at").notNull(),
  sizeBytes: integer("size_bytes").notNull(),
  /** Row count of each table, by table name. */
  tableRows: text("table_rows", { mode: "json" }).notNull().$type<Record<string, number>>(),
  /** Set when the admins were warned that day: claimed before the email, so two ticks send one. */
  warnedAt: timestamp("warned_at"),
});
