/**
 * `npm run bench:purge`: a benchmark, not a test. Purging 1M expired error-log rows from a table
 * of 5M should cost about what the same purge costs in a table of 1M — the cost follows the expired
 * rows, not the table's size (docs/decisions/0005-inventory-driven-retention.md). Prints rows per
 * second for both and their ratio (target ≈ 1).
 *
 * What runs is the retention job's own statement (workers/domain/privacy/retention.ts), chunk by chunk
 * until a chunk deletes fewer rows than its size:
 *   delete from error_logs where rowid in (select rowid from error_logs where at < ? limit N)
 * with N = PURGE_CHUNK_ROWS read from that file, against the real schema (every
 * migrations/*.sql applied in order, so error_logs_at_idx is there). error_logs is the largest
 * time-purged table left in D1 (access logs are R2 day prefixes: docs/decisions/0037-access-logs-queue-r2.md).
 *
 * Why node:sqlite (Node 22) and not the local D1 of miniflare: D1 is SQLite, and the question is
 * how SQLite executes this statement over this index — a property of the query plan, which is the
 * same in both. Through miniflare every chunk would also pay a local HTTP round trip and workerd's
 * D1 shim, which are neither D1's production costs nor dependent on table size, and filling 6M
 * rows through it would take most of the time budget. Each chunk is its own autocommit
 * transaction, as each D1 query is; the database is a file in WAL mode, like D1's storage.
 * The per-chunk time is printed too: D1 limits a query to about 30 s.
 *
 * Rows are inserted in time order, as logs are written: the expired ones are the oldest.
 * Settings: BENCH_PURGE_EXPIRED (default 1,000,000), BENCH_PURGE_LARGE (table size, default 5,000,000).
 * The two database files live in a temp dir removed at the end, also on error or Ctrl-C.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { fmt, table } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { positiveInt, ROOT } from "./lib/settings.ts";
import { migratedDb } from "./lib/sqlite.ts";

const EXPIRED = positiveInt("BENCH_PURGE_EXPIRED", 1_000_000);
const LARGE = positiveInt("BENCH_PURGE_LARGE", 5_000_000);
const DAY_MS = 86_400_000;
const NOW = Date.UTC(2031, 0, 1);
/** policy §6: error logs 90 days, as access logs (schema/inventory.ts). */
const CUTOFF = NOW - 90 * DAY_MS;
const INSERT_BATCH = 100_000;

/** The chunk size the retention job uses, read from its source so the two never drift. */
function purgeChunkRows(): number {
  const source = readFileSync(join(ROOT, "workers/domain/privacy/retention.ts"), "utf8");
  const match = /export const PURGE_CHUNK_ROWS = (\d+);/.exec(source);
  if (!match) throw new Error("PURGE_CHUNK_ROWS not found in workers/domain/privacy/retention.ts");
  return Number(match[1]);
}

/** `rows` error-log rows, in time order: `expired` of them before the cutoff, the rest after it. */
function fill(db: DatabaseSync, rows: number, expired: number) {
  const insert = db.prepare(
    `insert into error_logs (at, request_id, source, code, message)
     with recursive seq(i) as (select ? union all select i + 1 from seq where i < ?)
     select case when i < ? then ? + i else ? + i end, 'req-' || i, 'request', 'Error', 'GET /v1/account: Error' from seq`,
  );
  for (let start = 0; start < rows; start += INSERT_BATCH) {
    const end = Math.min(rows, start + INSERT_BATCH) - 1;
    db.exec("begin");
    // Expired rows sit just before the cutoff, fresh ones after it (milliseconds apart).
    insert.run(start, end, expired, CUTOFF - expired - 1, CUTOFF);
    db.exec("commit");
  }
}

interface PurgeResult {
  deleted: number;
  seconds: number;
  chunks: number;
  maxChunkMs: number;
}

/** The retention job's loop, unbounded by ticks: chunks until one deletes less than a chunk. */
function purge(db: DatabaseSync, chunkRows: number): PurgeResult {
  const statement = db.prepare("delete from error_logs where rowid in (select rowid from error_logs where at < ? limit ?)");
  let deleted = 0;
  let chunks = 0;
  let maxChunkMs = 0;
  const started = process.hrtime.bigint();
  for (;;) {
    const chunkStart = process.hrtime.bigint();
    const changes = Number(statement.run(CUTOFF, chunkRows).changes);
    maxChunkMs = Math.max(maxChunkMs, Number(process.hrtime.bigint() - chunkStart) / 1e6);
    deleted += changes;
    chunks++;
    if (changes < chunkRows) break;
  }
  return { deleted, seconds: Number(process.hrtime.bigint() - started) / 1e9, chunks, maxChunkMs };
}

async function main() {
  const chunkRows = purgeChunkRows();
  const dir = makeTempDir("ozekai-bench-purge-");
  const sizes = [EXPIRED, LARGE];
  const dbs = sizes.map((rows, i) => {
    const db = migratedDb(join(dir, `purge-${i}.sqlite`));
    const started = Date.now();
    fill(db, rows, EXPIRED);
    log(`filled a table of ${fmt(rows, 0)} rows (${fmt(EXPIRED, 0)} expired) in ${fmt((Date.now() - started) / 1000)} s`);
    return db;
  });

  const results = dbs.map((db, i) => {
    const result = purge(db, chunkRows);
    const left = (db.prepare("select count(*) as n from error_logs").get() as { n: number }).n;
    if (result.deleted !== EXPIRED || left !== sizes[i]! - EXPIRED) throw new Error(`purge deleted ${result.deleted} and left ${left}: expected ${EXPIRED} and ${sizes[i]! - EXPIRED}`);
    db.close();
    return result;
  });

  const [small, large] = results as [PurgeResult, PurgeResult];
  console.log(`Purge of ${fmt(EXPIRED, 0)} expired error-log rows, chunks of ${chunkRows} (workers/domain/privacy/retention.ts), node:sqlite ${process.versions.sqlite}`);
  console.log(
    table(
      ["table size", "expired deleted", "seconds", "rows/s", "chunks", "max ms/chunk"],
      results.map((r, i) => [fmt(sizes[i]!, 0), fmt(r.deleted, 0), fmt(r.seconds, 2), fmt(r.deleted / r.seconds, 0), String(r.chunks), fmt(r.maxChunkMs, 1)]),
    ),
  );
  console.log(`ratio (purge time in the ${fmt(LARGE, 0)}-row table / in the ${fmt(EXPIRED, 0)}-row table): ${fmt(large.seconds / small.seconds, 2)} (target ≈ 1)`);
}

await runBench("purge", main, 0);
