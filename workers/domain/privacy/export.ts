import { and, count, eq, gt, sql } from "drizzle-orm";
import { accountEvents } from "../../../schema";
import { inventory, type SinkEntry, sinks, type TableEntry, tableName } from "../../../schema/inventory";
import { userAccessLines } from "../access-logs";
import { auditEvent } from "../audit";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { liveUserQuery } from "../owned";
import { completeOwnRequests } from "./requests";

/** Bumped when the document's shape changes (docs/decisions/0017-privacy-export.md). */
export const EXPORT_SCHEMA_VERSION = 1;
/** Rows read per query: memory holds one page of one table, whatever the account's history. */
export const EXPORT_PAGE_ROWS = 500;
/** An export reads every row the account has: a few an hour are enough for anyone, and bound the cost. */
export const EXPORTS_PER_HOUR = 3;
const HOUR_MS = 3_600_000;

/** The tables of the export: every inventory table with a subject, so a table added there is exported. */
export const exportedTables = (): readonly TableEntry[] => inventory.filter((entry) => entry.subject !== null);

/** How the export reads one user's records from each sink outside D1, a batch at a time. */
const SINK_READERS: Record<string, (ctx: DomainContext, userId: string) => AsyncGenerator<Record<string, unknown>[]>> = {
  access_logs: userAccessLines as (ctx: DomainContext, userId: string) => AsyncGenerator<Record<string, unknown>[]>,
};

/** The sinks of the export: every one the inventory lists, each read through its reader. */
export const exportedSinks = (): readonly SinkEntry[] => sinks;

/** The reader of a sink; a sink listed in the inventory without one fails the export (and its test). */
export function sinkReader(sink: SinkEntry) {
  const reader = Object.hasOwn(SINK_READERS, sink.name) ? SINK_READERS[sink.name] : undefined;
  if (!reader) throw new Error(`sink ${sink.name} has no export reader`);
  return reader;
}

/** The columns exported: all of them but the credentials the inventory marks secret. */
export const exportedColumns = (entry: TableEntry): string[] =>
  Object.entries(entry.columns)
    .filter(([, column]) => !column.secret)
    .map(([name]) => name);

/**
 * Policy §7 access and portability: the account's data as one JSON document, streamed. Counts
 * against the hourly budget and writes the audit row before the first byte, so an export that was
 * handed out is always recorded.
 */
export async function exportPersonalData(ctx: DomainContext, userId: string): Promise<{ body: ReadableStream<Uint8Array>; filename: string }> {
  const now = ctx.clock.now();
  const [recent] = await ctx.db
    .select({ n: count() })
    .from(accountEvents)
    .where(and(eq(accountEvents.userId, userId), eq(accountEvents.type, "privacy_export"), gt(accountEvents.at, new Date(now.getTime() - HOUR_MS))));
  if ((recent?.n ?? 0) >= EXPORTS_PER_HOUR) throw new AppError("rate_limited", `At most ${EXPORTS_PER_HOUR} exports an hour; try again later.`);
  await auditEvent(ctx, userId, "privacy_export", { schemaVersion: EXPORT_SCHEMA_VERSION });
  return { body: exportStream(ctx, userId, now), filename: `ozekai-export-${now.toISOString().slice(0, 10)}.json` };
}

/**
 * Writes the document table by table, one keyset page (by rowid, which every table has) per pull,
 * then each sink outside D1 (R2 objects), one object's records per pull: the stream's
 * backpressure paces the reads, and no table or sink is ever held whole.
 */
function exportStream(ctx: DomainContext, userId: string, generatedAt: Date): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const tables = exportedTables();
  const sinkEntries = exportedSinks();
  let tableIndex = 0;
  let afterRowid: number | null = null;
  let firstRow = true;
  let sinkIndex = 0;
  let records: AsyncGenerator<Record<string, unknown>[]> | null = null;
  const row = (record: Record<string, unknown>) => {
    const text = `${firstRow ? "" : ","}${JSON.stringify(record)}`;
    firstRow = false;
    return text;
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const head = { schemaVersion: EXPORT_SCHEMA_VERSION, generatedAt: generatedAt.toISOString(), user: { id: userId } };
      controller.enqueue(encoder.encode(`${JSON.stringify(head).slice(0, -1)},"tables":{`));
    },
    async pull(controller) {
      const entry = tables[tableIndex];
      if (entry) {
        let out = "";
        if (afterRowid === null) {
          out += `${tableIndex === 0 ? "" : ","}${JSON.stringify(tableName(entry))}:[`;
          afterRowid = -1;
          firstRow = true;
        }
        const rows = await readPage(ctx, entry, userId, afterRowid);
        for (const { __rowid, ...rest } of rows) {
          out += row(rest);
          afterRowid = __rowid;
        }
        if (rows.length < EXPORT_PAGE_ROWS) {
          out += "]";
          tableIndex += 1;
          afterRowid = null;
        }
        controller.enqueue(encoder.encode(out));
        return;
      }
      const sink = sinkEntries[sinkIndex];
      if (sink) {
        let out = "";
        if (!records) {
          out += `${tables.length === 0 && sinkIndex === 0 ? "" : ","}${JSON.stringify(sink.name)}:[`;
          records = sinkReader(sink)(ctx, userId);
          firstRow = true;
        }
        const next = await records.next();
        if (next.done) {
          out += "]";
          sinkIndex += 1;
          records = null;
        } else {
          const fields = Object.keys(sink.fields);
          for (const record of next.value) out += row(Object.fromEntries(fields.map((f) => [f, record[f] ?? null])));
        }
        controller.enqueue(encoder.encode(out));
        return;
      }
      const workspace = { included: false, download: "GET /v1/workspace/archive (while connected)" };
      controller.enqueue(encoder.encode(`},"workspace":${JSON.stringify(workspace)}}`));
      // The whole document was read: that answers the user's access and portability requests.
      const user = await liveUserQuery(ctx, userId);
      await completeOwnRequests(ctx, userId, ["access", "portability"], user?.email ?? null);
      controller.close();
    },
  });
}

/** One page of the subject's rows, the inventory's column names selected as they are stored. */
async function readPage(ctx: DomainContext, entry: TableEntry, userId: string, afterRowid: number): Promise<({ __rowid: number } & Record<string, unknown>)[]> {
  const columns = sql.join(
    exportedColumns(entry).map((name) => sql.identifier(name)),
    sql`, `,
  );
  return ctx.db.all(
    sql`select rowid as __rowid, ${columns} from ${sql.identifier(tableName(entry))} where ${sql.identifier(entry.subject!)} = ${userId} and rowid > ${afterRowid} order by rowid limit ${EXPORT_PAGE_ROWS}`,
  );
}
