/**
 * Policy §6, driven by the data inventory: every table with a time rule is purged here, so a new
 * table with a rule needs no new job. Work left over continues on the next tick (idempotent).
 * Covers expired and used tokens, expired sign-ins, access and error logs (90 days), audit (12 months).
 */
import { sql } from "drizzle-orm";
import { daysToMs, inventory, tableName } from "../../../schema/inventory";
import type { DomainContext } from "../context";

/** D1 allows ~30 s per query and 100 bound parameters: delete in small chunks, bounded per tick. */
export const PURGE_CHUNK_ROWS = 500;
export const PURGE_MAX_CHUNKS_PER_RULE = 20;

/** Rows deleted per table; throws once every table had its turn if any failed. */
export async function purgeExpired(ctx: DomainContext): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  const failed: string[] = [];
  for (const entry of inventory) {
    if (entry.retention.kind !== "time") continue;
    const table = tableName(entry);
    let total = 0;
    // One table failing (e.g. a parent whose children are not all purged yet: a foreign key
    // violation, or a setting that does not parse) must not stop the purge of the others; it is
    // reported once all had their turn.
    try {
      const days = entry.retention.configured ? Math.min(entry.retention.days, ctx.config.usage[entry.retention.configured]) : entry.retention.days;
      const cutoff = ctx.clock.now().getTime() - daysToMs(days);
      for (const column of entry.retention.columns) {
        for (let chunk = 0; chunk < PURGE_MAX_CHUNKS_PER_RULE; chunk++) {
          const result = await ctx.db.run(
            sql`delete from ${sql.identifier(table)} where rowid in (select rowid from ${sql.identifier(table)} where ${sql.identifier(column)} < ${cutoff} limit ${PURGE_CHUNK_ROWS})`,
          );
          total += result.meta.changes;
          if (result.meta.changes < PURGE_CHUNK_ROWS) break;
        }
      }
    } catch (error) {
      failed.push(`${table}: ${error instanceof Error ? error.message : String(error)}`);
    }
    deleted[table] = total;
  }
  if (failed.length > 0) throw new Error(`retention purge failed for ${failed.join("; ")} (deleted ${JSON.stringify(deleted)})`);
  return deleted;
}
