/**
 * `npm run bench:capacity`: a capacity model, not a test. A D1 database holds at most 10 GB; how
 * much load does the schema as it is carry for its full retention periods (policy §6)?
 *
 * For every table that grows with use, rows of realistic shape (uuids, IPs, user agents, paths,
 * millisecond timestamps) are written into the real schema (every migration applied, node:sqlite)
 * and the bytes per row are measured with SQLite's dbstat: the table's b-tree plus each of its
 * indexes, pages as stored. D1 is SQLite: the same pages are what counts against its limit.
 * Each table's rows per day follow from one unit of load:
 *   R  API requests per second (a dashboard or `ozekai status --watch` polling every 10 s is 0.1),
 *   C  concurrent live sessions (a usage sample per session a minute, a usage record an hour),
 *   U  users active on a day (sign-ins, refreshes, account events, Stripe events).
 * It prints, per table: bytes per row, rows a day per unit, retention, the size at steady state
 * (retention full) under the reference load, and the load that table alone sustains in 10 GB;
 * then, all tables together, the days from empty until 10 GB at the reference load and the
 * largest multiple of it that fits for the whole retention. The reference load and the model's
 * ratios are settings (below), printed with the result.
 * Access logs are no longer rows (docs/decisions/0037-access-logs-queue-r2.md): D1 keeps their
 * index, a row per user and active hour once the hourly compaction ran, and R2 the lines, gzip
 * NDJSON. Side by side in the same run, the design before it: one `access_logs` row per request,
 * its table and indexes created here as they were (migration 0016 dropped them), measured the
 * same way; and the lines' R2 bytes, gzip of user-hour objects of the same shape.
 * The measuring database is in memory; nothing is contacted.
 */
import { gzipSync } from "node:zlib";
import type { DatabaseSync } from "node:sqlite";
import { fmt, table } from "./lib/report.ts";
import { log, runBench } from "./lib/run-bench.ts";
import { positiveInt } from "./lib/settings.ts";
import { migratedDb } from "./lib/sqlite.ts";

const D1_LIMIT_BYTES = 10e9;
const ROWS_MEASURED = positiveInt("BENCH_CAPACITY_ROWS", 100_000);
/** The reference load: 1,000 users polling every 10 s, a thousand sessions live, five thousand users a day. */
const LOAD = { R: positiveInt("BENCH_CAPACITY_RPS", 100), C: positiveInt("BENCH_CAPACITY_SESSIONS", 1000), U: positiveInt("BENCH_CAPACITY_USERS", 5000) };
/** The model's ratios: each says how a table's rows follow from the load. */
const MODEL = {
  errorFraction: 0.001, // error-log lines per request
  sessionHours: 4, // mean length of a session: sessions a day = C × 24 / this
  commandsPerSession: 4, // connect, disconnect, an upload, a download
  refreshesPerUserDay: 32, // an access token lasts 15 min: 8 hours of use a day
  eventsPerUserDay: 2, // sign-in, policy acceptance, a change of settings…
  stripeEventsPerUserDay: 0.1, // invoices and subscription changes, a few a month
  activeHoursPerUserDay: 8, // hours a day with a request: one compacted access-log object (and index row) each
  uncompactedHours: 1.3, // index rows per batch object live until the hour after theirs is compacted (17 min past)
};
const DAY_MS = 86_400_000;
const T0 = Date.UTC(2027, 0, 1);

// SQL expressions over seq(i): ids and values of the stored shapes.
const uuid = "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";
const userOf = (pool: number) => `printf('%08x-0000-4000-a000-%012x', i % ${pool}, i % ${pool})`;
const sessionOf = (pool: number) => `printf('%08x-5e55-4000-a000-%012x', i % ${pool}, i % ${pool})`;
const userAgent = "case i % 2 when 0 then 'ozekai/0.1.0 (linux-x64; node 22.23.3)' else 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36' end";

interface TableModel {
  table: string;
  /** The columns and the SELECT over seq(i) that fills them. */
  insert: string;
  /** What one row a day stands for, and how many a day the load makes. */
  driver: string;
  perDay: (load: typeof LOAD) => number;
  retentionDays: number;
}

/** The design before decision 0037: one row per request (schema/logs.ts as it was, with its three indexes). */
const ACCESS_LOGS_BEFORE: TableModel = {
  table: "access_logs",
  insert: `(at, request_id, ip, user_agent, method, path, status, duration_ms, user_id)
    select ${T0} + i * 10, ${uuid}, '203.0.113.' || (i % 250), ${userAgent}, 'GET',
      case i % 3 when 0 then '/v1/sessions/' || ${sessionOf(1000)} || '/metrics' when 1 then '/v1/account' else '/v1/workspace' end, 200, i % 40, ${userOf(5000)}`,
  driver: "86,400 × R",
  perDay: (l) => 86_400 * l.R,
  retentionDays: 90,
};
const ACCESS_LOGS_BEFORE_DDL = `create table access_logs (id integer primary key autoincrement not null, at integer not null, request_id text not null, ip text, user_agent text,
    method text not null, path text not null, status integer not null, duration_ms integer not null, user_id text);
  create index access_logs_at_idx on access_logs (at); create index access_logs_user_idx on access_logs (user_id); create index access_logs_request_idx on access_logs (request_id);`;

const TABLES: TableModel[] = [
  {
    table: "access_log_objects",
    insert: `(user_id, day, key)
      select ${userOf(5000)}, ${T0} + (i / 120000) * ${DAY_MS},
        'access/day=' || date((${T0} + (i / 120000) * ${DAY_MS}) / 1000, 'unixepoch') || '/u=' || printf('%02d', i % 16) || '/h=' || printf('%02d', (i / 5000) % 24) || '/user-' || ${userOf(5000)} || '.ndjson.gz'`,
    driver: `U × ${MODEL.activeHoursPerUserDay} active hours`,
    perDay: (l) => l.U * MODEL.activeHoursPerUserDay,
    retentionDays: 90,
  },
  {
    table: "error_logs",
    insert: `(at, request_id, source, code, message, user_id)
      select ${T0} + i * 10, ${uuid}, 'provisioner', 'host_unreachable', 'TypeError <- Error ECONNRESET: fetch failed on POST /v1/workspaces/{id}/start', ${userOf(5000)}`,
    driver: `86,400 × R × ${MODEL.errorFraction}`,
    perDay: (l) => 86_400 * l.R * MODEL.errorFraction,
    retentionDays: 90,
  },
  {
    table: "usage_samples",
    insert: `(session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, cpu_percent, memory_used_bytes, shells_attached)
      select ${sessionOf(1000)}, ${userOf(1000)}, ${T0} + (i / 1000) * 60000, 1, 87.5 + (i % 10), 99.0, 61440 + i % 1000, 81920, 312.5, 34359738368 + i, 1`,
    driver: "1,440 × C",
    perDay: (l) => 1440 * l.C,
    retentionDays: 365,
  },
  {
    table: "usage_records",
    insert: `(id, session_id, user_id, plan_id, interval_start, interval_end, quantity, created_at, reported_at, expired_at)
      select ${sessionOf(1000)} || ':' || (${T0} + (i / 1000) * 3600000), ${sessionOf(1000)}, ${userOf(1000)}, 'a100-80gb-1x', ${T0} + (i / 1000) * 3600000, ${T0} + (i / 1000 + 1) * 3600000, 3600, ${T0} + (i / 1000 + 1) * 3600000 + 60000, ${T0} + (i / 1000 + 1) * 3600000 + 120000, null`,
    driver: "24 × C",
    perDay: (l) => 24 * l.C,
    retentionDays: 365,
  },
  {
    table: "sessions",
    insert: `(id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, ended_at, duration_ms, container_id, gpu_type, gpu_count, gpu_ids, cpus, memory_mb, pids_limit, ports, failure_code)
      select ${uuid}, ${userOf(5000)}, ${uuid}, 'cfg-1a2b3c4d5e6f', 'a100-80gb-1x', 'ended', ${T0} + i * 1000, ${T0} + i * 1000 + 900, ${T0} + i * 1000 + 14400000, 14399100,
        lower(hex(randomblob(32))), 'NVIDIA A100-SXM4-80GB', 1, '["GPU-' || ${uuid} || '"]', 8.0, 65536, 4096, '[]', null`,
    driver: `C × 24 / ${MODEL.sessionHours} h`,
    perDay: (l) => (l.C * 24) / MODEL.sessionHours,
    retentionDays: 365,
  },
  {
    table: "command_log",
    insert: `(user_id, session_id, command, at, request_id)
      select ${userOf(5000)}, ${sessionOf(1000)}, case i % 4 when 0 then 'connect' when 1 then 'upload' when 2 then 'download' else 'disconnect' end, ${T0} + i * 1000, ${uuid}`,
    driver: `sessions a day × ${MODEL.commandsPerSession}`,
    perDay: (l) => ((l.C * 24) / MODEL.sessionHours) * MODEL.commandsPerSession,
    retentionDays: 365,
  },
  {
    table: "account_events",
    insert: `(user_id, type, actor, at, request_id, detail)
      select ${userOf(5000)}, 'login', 'anonymous', ${T0} + i * 1000, ${uuid}, case i % 4 when 0 then '{"version":"2026-04-03"}' else null end`,
    driver: `U × ${MODEL.eventsPerUserDay}`,
    perDay: (l) => l.U * MODEL.eventsPerUserDay,
    retentionDays: 365,
  },
  {
    table: "refresh_tokens",
    insert: `(token_hash, login_session_id, user_id, created_at, expires_at, used_at)
      select lower(hex(randomblob(32))), ${sessionOf(5000)}, ${userOf(5000)}, ${T0} + i * 1000, ${T0} + i * 1000 + 30 * ${DAY_MS}, ${T0} + i * 1000 + 900000`,
    driver: `U × ${MODEL.refreshesPerUserDay} (kept to expiry)`,
    perDay: (l) => l.U * MODEL.refreshesPerUserDay,
    retentionDays: 30,
  },
  {
    table: "stripe_events",
    insert: `(event_id, type, user_id, event_created_at, processed_at)
      select 'evt_' || substr(hex(randomblob(12)), 1, 24), 'invoice.paid', ${userOf(5000)}, ${T0} + i * 1000, ${T0} + i * 1000 + 500`,
    driver: `U × ${MODEL.stripeEventsPerUserDay}`,
    perDay: (l) => l.U * MODEL.stripeEventsPerUserDay,
    retentionDays: 365,
  },
];

/** Bytes of a table and its indexes as stored (dbstat: every page of each b-tree). */
function storedBytes(db: DatabaseSync, tableName: string): number {
  const row = db.prepare("select coalesce(sum(pgsize), 0) as bytes from dbstat where name in (select name from sqlite_schema where tbl_name = ?)").get(tableName) as { bytes: number };
  return row.bytes;
}

/** Gzip bytes a line in R2: user-hour objects of `linesPerObject` lines of the stored shape. */
function r2BytesPerLine(linesPerObject: number): number {
  let bytes = 0;
  const objects = 200;
  for (let o = 0; o < objects; o++) {
    const userId = crypto.randomUUID();
    const lines = Array.from({ length: linesPerObject }, (_, i) =>
      JSON.stringify({
        at: T0 + o * 3_600_000 + i * 10_000,
        request_id: crypto.randomUUID(),
        ip: `203.0.113.${o % 250}`,
        user_agent: i % 2 ? "ozekai/0.1.0 (linux-x64; node 22.23.3)" : "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
        method: "GET",
        path: i % 3 ? "/v1/account" : `/v1/sessions/${crypto.randomUUID()}/metrics`,
        status: 200,
        duration_ms: i % 40,
        user_id: userId,
      }),
    );
    bytes += gzipSync(lines.join("\n")).length;
  }
  return bytes / (objects * linesPerObject);
}

function measure(db: DatabaseSync, model: TableModel): number {
  const before = storedBytes(db, model.table);
  db.exec("begin");
  db.prepare(`insert into ${model.table} ${model.insert.replace(/^(\([^)]*\))\s*select/s, `$1 with recursive seq(i) as (select 0 union all select i + 1 from seq where i < ${ROWS_MEASURED - 1}) select`)} from seq`).run();
  db.exec("commit");
  const count = (db.prepare(`select count(*) as n from ${model.table}`).get() as { n: number }).n;
  if (count !== ROWS_MEASURED) throw new Error(`${model.table}: ${count} rows written, expected ${ROWS_MEASURED}`);
  return (storedBytes(db, model.table) - before) / ROWS_MEASURED;
}

const gb = (bytes: number) => `${fmt(bytes / 1e9, 2)} GB`;

async function main() {
  const db = migratedDb(":memory:");
  // The rows reference users and sessions that are not there: sizes, not integrity, are measured.
  db.exec("pragma foreign_keys = off");
  const measured = TABLES.map((model) => {
    const bytesPerRow = measure(db, model);
    log(`${model.table}: ${fmt(bytesPerRow)} bytes a row`);
    return { ...model, bytesPerRow, rowsPerDay: model.perDay(LOAD) };
  });
  db.exec(ACCESS_LOGS_BEFORE_DDL);
  const beforeBytesPerRow = measure(db, ACCESS_LOGS_BEFORE);
  log(`access_logs (before decision 0037): ${fmt(beforeBytesPerRow)} bytes a row`);
  db.close();

  const rows = measured.map((m) => {
    const steady = m.bytesPerRow * m.rowsPerDay * m.retentionDays;
    // The table alone in 10 GB: the multiple of the reference load it carries for its whole retention.
    const alone = D1_LIMIT_BYTES / steady;
    return [m.table, fmt(m.bytesPerRow, 0), m.driver, fmt(m.rowsPerDay, 0), `${m.retentionDays} d`, gb(steady), `${fmt(alone, 2)}×`];
  });
  const steadyTotal = measured.reduce((sum, m) => sum + m.bytesPerRow * m.rowsPerDay * m.retentionDays, 0);
  let days = 0;
  let size = 0;
  const longest = Math.max(...measured.map((m) => m.retentionDays));
  while (size < D1_LIMIT_BYTES && days < longest) {
    days++;
    size = measured.reduce((sum, m) => sum + m.bytesPerRow * m.rowsPerDay * Math.min(days, m.retentionDays), 0);
  }
  const fits = D1_LIMIT_BYTES / steadyTotal;
  const index = measured.find((m) => m.table === "access_log_objects")!;
  const samples = measured.find((m) => m.table === "usage_samples")!;
  // Lines a user-hour object holds at the reference load: the requests of a day over the users' active hours.
  const linesPerObject = Math.max(1, Math.round((86_400 * LOAD.R) / (LOAD.U * MODEL.activeHoursPerUserDay)));
  const r2PerLine = r2BytesPerLine(linesPerObject);
  const linesSteady = 86_400 * LOAD.R * 90;
  const beforeSteady = beforeBytesPerRow * linesSteady;
  const indexSteady = index.bytesPerRow * index.rowsPerDay * 90;
  // Until its hour is compacted each batch object has a row per user in it: about one per line for pollers.
  const transient = index.bytesPerRow * 3600 * LOAD.R * MODEL.uncompactedHours;
  const out = [
    "",
    `Capacity of one D1 database (10 GB) with the schema as it is (access-log lines in R2, their index in D1), at the reference load R = ${LOAD.R} requests/s, C = ${LOAD.C} live sessions, U = ${LOAD.U} users a day`,
    `(bytes a row: ${fmt(ROWS_MEASURED, 0)} rows of realistic shape in the real schema, table + indexes as stored; the tables that do not grow with use — users, workspaces, hosts, billing accounts — are left out)`,
    table(["table", "bytes/row", "rows a day", "at reference", "retention", "steady size", "load it alone fits"], rows),
    `All tables at steady state: ${gb(steadyTotal)}. ${size >= D1_LIMIT_BYTES ? `From empty, 10 GB is reached on day ${days}.` : `From empty, the database stays under 10 GB (${gb(size)} once every retention window is full).`}`,
    `The largest load that fits for the whole retention: ${fmt(fits, 2)}× the reference — R = ${fmt(LOAD.R * fits, 1)} requests/s, C = ${fmt(LOAD.C * fits, 0)} sessions, U = ${fmt(LOAD.U * fits, 0)} users a day.`,
    "",
    "Access logs, 90 days at the reference load, before decision 0037 and now (measured side by side in this run):",
    table(
      ["design", "D1 bytes", "D1 at reference", "R2 at reference", "requests/s one D1 carries for 90 days (access logs alone)"],
      [
        ["before: a D1 row a request", `${fmt(beforeBytesPerRow, 0)} a line`, gb(beforeSteady), "—", fmt(D1_LIMIT_BYTES / (beforeBytesPerRow * 86_400 * 90), 1)],
        [
          "now: R2 lines, D1 index",
          `${fmt(index.bytesPerRow, 0)} a user-hour`,
          `${gb(indexSteady)} + ${gb(transient)} uncompacted`,
          `${gb(r2PerLine * linesSteady)} (${fmt(r2PerLine, 0)} B a line gzip, ${linesPerObject} lines an object)`,
          `not bound by R (${fmt(D1_LIMIT_BYTES / ((index.bytesPerRow * MODEL.activeHoursPerUserDay * 90)), 0)} users a day)`,
        ],
      ],
    ),
    `Ratio of the access log's D1 footprint, now / before: ${fmt((indexSteady + transient) / beforeSteady, 3)}. Usage samples alone (12 months) fit ${fmt(D1_LIMIT_BYTES / (samples.bytesPerRow * 1440 * 365), 0)} concurrent sessions.`,
    `Model: ${Object.entries(MODEL)
      .map(([k, v]) => `${k} = ${v}`)
      .join(", ")}.`,
  ];
  console.log(out.join("\n"));
}

await runBench("capacity", main, 1000);
