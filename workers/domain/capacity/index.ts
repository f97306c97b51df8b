/**
 * The database watching its own size: D1 refuses writes past its per-database limit, so a daily
 * job records each table's row count and the file's size, and the admins are told while there is
 * still room (one email a day at most, claimed in D1 first, whatever the number of ticks).
 */
import { and, desc, eq, gte, isNull, lt, sql } from "drizzle-orm";
import { databaseStats } from "../../../schema";
import { inventory, tableName } from "../../../schema/inventory";
import { accountEmails } from "../../adapters/email";
import type { DomainContext } from "../context";
import { adminAddresses } from "../owned";

const DAY_MS = 86_400_000;
/** Tables named in the warning: the ones to look at first. */
const LARGEST_LISTED = 5;

export interface DatabaseFigures {
  day: string;
  measuredAt: string;
  sizeBytes: number;
  limitBytes: number;
  /** Share of the limit in use, one decimal. */
  percent: number;
  tables: { table: string; rows: number }[];
}

const percentOf = (size: number, limit: number) => Math.round((size / limit) * 1000) / 10;

/** One day's measurement, with the limit it is read against. */
const figures = (row: typeof databaseStats.$inferSelect, limitBytes: number): DatabaseFigures => ({
  day: row.day.toISOString().slice(0, 10),
  measuredAt: row.measuredAt.toISOString(),
  sizeBytes: row.sizeBytes,
  limitBytes,
  percent: percentOf(row.sizeBytes, limitBytes),
  tables: Object.entries(row.tableRows)
    .map(([table, rows]) => ({ table, rows }))
    .sort((a, b) => b.rows - a.rows || a.table.localeCompare(b.table)),
});

/**
 * Counts every table of the data inventory (which names them all: a test keeps it so) and reads
 * the file's size from D1's own result metadata, then stores them as today's row.
 */
export async function measureDatabase(ctx: DomainContext): Promise<DatabaseFigures & { warned: number }> {
  const now = ctx.clock.now();
  const day = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const { databaseLimitBytes, databaseWarnPercent } = ctx.config.stats;
  const tableRows: Record<string, number> = {};
  for (const entry of inventory) {
    const name = tableName(entry);
    const [row] = await ctx.db.all<{ n: number }>(sql`select count(*) as n from ${sql.identifier(name)}`);
    tableRows[name] = Number(row?.n ?? 0);
  }
  // D1 reports the file's size after each statement: this one's includes today's row.
  const written = await ctx.db
    .insert(databaseStats)
    .values({ day, measuredAt: now, sizeBytes: 0, tableRows })
    .onConflictDoUpdate({ target: databaseStats.day, set: { measuredAt: now, tableRows } })
    .run();
  const sizeBytes = Number(written.meta.size_after ?? 0);
  const [stored] = await ctx.db.update(databaseStats).set({ sizeBytes }).where(eq(databaseStats.day, day)).returning();
  const measured = figures(stored!, databaseLimitBytes);
  if (measured.percent < databaseWarnPercent) return { ...measured, warned: 0 };
  const admins = await adminAddresses(ctx);
  if (admins.length === 0) {
    ctx.log.warn("database_near_limit_no_admin", { percent: measured.percent });
    return { ...measured, warned: 0 };
  }
  // Claimed before sending: a second tick the same day finds it taken and sends nothing.
  const claimed = await ctx.db
    .update(databaseStats)
    .set({ warnedAt: now })
    .where(and(eq(databaseStats.day, day), isNull(databaseStats.warnedAt)))
    .returning({ day: databaseStats.day });
  if (claimed.length === 0) return { ...measured, warned: 0 };
  const email = accountEmails.databaseNearLimit({ percent: measured.percent, sizeBytes, limitBytes: databaseLimitBytes, largest: measured.tables.slice(0, LARGEST_LISTED) });
  for (const address of admins) ctx.email.send(address, email);
  return { ...measured, warned: admins.length };
}

/** The daily measurements of the UTC days in [from, to), newest first: the admins' statistics show them. */
export async function databaseFigures(ctx: DomainContext, from: Date, to: Date): Promise<DatabaseFigures[]> {
  const rows = await ctx.db
    .select()
    .from(databaseStats)
    .where(and(gte(databaseStats.day, from), lt(databaseStats.day, to)))
    .orderBy(desc(databaseStats.day));
  return rows.map((row) => figures(row, ctx.config.stats.databaseLimitBytes));
}
