/**
 * The data inventory (schema/inventory.ts) against the REAL migrated D1: every column that exists is
 * classified, nothing classified is stale, nothing policy §1 excludes is stored, and every retention
 * rule is well formed (ARCHITECTURE.md "Data").
 */
import { env } from "cloudflare:workers";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { type Category, inventory, type SinkEntry, sinks, type TableEntry, tableName } from "../schema/inventory";
import { exportedSinks, sinkReader } from "../workers/domain/privacy";
import wranglerToml from "../wrangler.toml?raw";

const CATEGORIES = ["account", "payment_reference", "usage", "technical_log", "security", "derived", "infrastructure"] as const satisfies readonly Category[];
// Compile-time: the list above names every Category (a new category must be added here too).
const everyCategoryListed: Exclude<Category, (typeof CATEGORIES)[number]> extends never ? true : false = true;

/** Tables that SQLite, D1 or the migration runner own: not application data. */
const isInternalTable = (name: string) => name.startsWith("sqlite_") || name.startsWith("_cf_") || name === "d1_migrations";

type Schema = Record<string, string[]>;
interface ColumnInfo {
  name: string;
  type: string;
}

async function readDbTables(): Promise<Record<string, ColumnInfo[]>> {
  const { results } = await env.DB.prepare("select name from sqlite_master where type = 'table' order by name").all<{ name: string }>();
  const tables: Record<string, ColumnInfo[]> = {};
  for (const { name } of results) {
    if (isInternalTable(name)) continue;
    // Table names come from sqlite_master itself; quoted as an identifier all the same.
    const info = await env.DB.prepare(`pragma table_info("${name.replaceAll('"', '""')}")`).all<ColumnInfo>();
    tables[name] = info.results.map((c) => ({ name: c.name, type: c.type }));
  }
  return tables;
}

/**
 * Every problem between what the database holds and what the inventory classifies. Empty means
 * consistent. Pure, so the test below can prove it reports what it must.
 */
function inventoryProblems(db: Schema, entries: readonly TableEntry[]): string[] {
  const problems: string[] = [];
  const byName = new Map(entries.map((e) => [tableName(e), e]));
  for (const [table, columns] of Object.entries(db)) {
    const entry = byName.get(table);
    if (!entry) {
      problems.push(`table ${table} is not in the inventory`);
      continue;
    }
    for (const column of columns) {
      const classified = Object.hasOwn(entry.columns, column) ? entry.columns[column] : undefined;
      if (!classified) problems.push(`column ${table}.${column} is not classified`);
      else {
        if (!(CATEGORIES as readonly string[]).includes(classified.category)) problems.push(`column ${table}.${column} has unknown category ${String(classified.category)}`);
        if (typeof classified.purpose !== "string" || classified.purpose.trim() === "") problems.push(`column ${table}.${column} has no purpose`);
      }
    }
    for (const column of Object.keys(entry.columns)) {
      if (!columns.includes(column)) problems.push(`column ${table}.${column} is classified but does not exist`);
    }
  }
  for (const table of byName.keys()) {
    if (!Object.hasOwn(db, table)) problems.push(`table ${table} is in the inventory but does not exist`);
  }
  return problems;
}

/**
 * Policy §1: no card number, CVC, billing/postal address, date of birth or phone is stored. Short
 * words match whole `_`-separated parts only (so `company` is not a `pan`); longer ones anywhere.
 */
const FORBIDDEN_NAME = /(?:^|_)(?:card|cvc|cvv|pan|zip|dob)(?:_|$)|card_?(?:number|num|no)|address|street|postal|postcode|birth|phone/i;

let dbTables: Record<string, ColumnInfo[]>;
let dbSchema: Schema;

beforeAll(async () => {
  dbTables = await readDbTables();
  dbSchema = Object.fromEntries(Object.entries(dbTables).map(([t, cols]) => [t, cols.map((c) => c.name)]));
});

describe("data inventory ↔ real D1", () => {
  it("reads a migrated database (the check is not vacuous)", () => {
    expect(everyCategoryListed).toBe(true);
    expect(Object.keys(dbSchema)).toEqual(expect.arrayContaining(["users", "access_log_objects", "error_logs", "account_events"]));
    expect(Object.values(dbSchema).every((cols) => cols.length > 0)).toBe(true);
    expect(Object.keys(dbSchema).some(isInternalTable)).toBe(false);
  });

  it("classifies every column of every table, with no stale entries", () => {
    expect(inventoryProblems(dbSchema, inventory)).toEqual([]);
    // Same set of tables both ways, stated directly too.
    expect(Object.keys(dbSchema).sort()).toEqual(inventory.map(tableName).sort());
  });

  it("gives every column an allowed category and a purpose", () => {
    for (const entry of inventory) {
      for (const [column, { category, purpose }] of Object.entries(entry.columns)) {
        expect(CATEGORIES, `${tableName(entry)}.${column}`).toContain(category);
        expect(purpose.trim().length, `${tableName(entry)}.${column} purpose`).toBeGreaterThan(3);
      }
    }
  });

  it("agrees with the drizzle tables the code writes through", () => {
    for (const entry of inventory) {
      const drizzleColumns = getTableConfig(entry.table).columns.map((c) => c.name);
      expect(drizzleColumns.sort(), tableName(entry)).toEqual(Object.keys(entry.columns).sort());
    }
  });

  it("names a subject column that exists, for export and erasure", () => {
    for (const entry of inventory) if (entry.subject !== null) expect(dbSchema[tableName(entry)], tableName(entry)).toContain(entry.subject);
  });

  it("a table without a subject holds infrastructure only, and infrastructure lives only there", () => {
    for (const entry of inventory) {
      for (const [column, { category }] of Object.entries(entry.columns)) {
        expect(category === "infrastructure", `${tableName(entry)}.${column}`).toBe(entry.subject === null);
      }
      // Nothing with a person in it can escape the time and account rules.
      expect(entry.retention.kind === "registry", tableName(entry)).toBe(entry.subject === null);
    }
  });

  it("says what an account's deletion does to every table with a subject; what it keeps has an end", () => {
    for (const entry of inventory) {
      expect(entry.onDeletion === null, tableName(entry)).toBe(entry.subject === null);
      // Kept for billing law means kept for a period (policy §6), never for as long as the row lives.
      if (entry.onDeletion === "keep") expect(["time", "lifecycle"], tableName(entry)).toContain(entry.retention.kind);
    }
    expect(inventory.filter((e) => e.onDeletion === "keep").map(tableName)).toEqual(expect.arrayContaining(["billing_accounts", "usage_records", "sessions", "stripe_events"]));
  });

  describe("the check itself can fail", () => {
    it("reports a column added without a classification", () => {
      const withExtra = { ...dbSchema, users: [...dbSchema.users!, "favourite_colour"] };
      expect(inventoryProblems(withExtra, inventory)).toEqual(["column users.favourite_colour is not classified"]);
    });

    it("reports a table missing from the inventory", () => {
      const withTable = { ...dbSchema, gpu_benchmarks: ["id", "name"] };
      expect(inventoryProblems(withTable, inventory)).toEqual(["table gpu_benchmarks is not in the inventory"]);
    });

    it("reports a classified column that no longer exists, and a vanished table", () => {
      const { error_logs: _dropped, ...withoutErrorLogs } = dbSchema;
      const withoutKey = { ...withoutErrorLogs, access_log_objects: dbSchema.access_log_objects!.filter((c) => c !== "key") };
      expect(inventoryProblems(withoutKey, inventory).sort()).toEqual(["column access_log_objects.key is classified but does not exist", "table error_logs is in the inventory but does not exist"]);
    });

    it("reports a bad category or an empty purpose", () => {
      const usersEntry = inventory.find((e) => tableName(e) === "users")!;
      const rest = inventory.filter((e) => e !== usersEntry);
      const broken: TableEntry = {
        ...usersEntry,
        columns: { ...usersEntry.columns, id: { category: "misc" as Category, purpose: "x" }, username: { category: "account", purpose: "  " } },
      };
      expect(inventoryProblems(dbSchema, [broken, ...rest]).sort()).toEqual(["column users.id has unknown category misc", "column users.username has no purpose"]);
    });

    it("does not mistake inherited object keys for classifications", () => {
      const withProto = { ...dbSchema, users: [...dbSchema.users!, "constructor", "toString"] };
      expect(inventoryProblems(withProto, inventory)).toEqual(["column users.constructor is not classified", "column users.toString is not classified"]);
    });
  });
});

describe("policy §1: data never stored", () => {
  it("the guard matches what it must and spares ordinary names", () => {
    for (const bad of ["card_number", "card", "cardnumber", "cvc", "cvv", "pan", "card_pan", "billing_address", "address_line1", "street", "postal_code", "zip", "zip_code", "date_of_birth", "birthdate", "dob", "phone", "phone_number", "Billing_Address"]) {
      expect(FORBIDDEN_NAME.test(bad), bad).toBe(true);
    }
    for (const fine of ["company", "expires_at", "ip", "email", "username", "span_id", "discarded_at", "plan_id", "password_hash", "user_agent"]) {
      expect(FORBIDDEN_NAME.test(fine), fine).toBe(false);
    }
  });

  it("no table or column in D1 is named like a card, address, birth date or phone field", () => {
    const offending: string[] = [];
    for (const [table, columns] of Object.entries(dbSchema)) {
      if (FORBIDDEN_NAME.test(table)) offending.push(table);
      for (const column of columns) if (FORBIDDEN_NAME.test(column)) offending.push(`${table}.${column}`);
    }
    expect(offending).toEqual([]);
  });

  it("nor in the inventory", () => {
    const names = inventory.flatMap((e) => [tableName(e), ...Object.keys(e.columns).map((c) => `${tableName(e)}.${c}`)]);
    expect(names.filter((n) => FORBIDDEN_NAME.test(n))).toEqual([]);
  });
});

describe("retention rules", () => {
  const byName = (name: string) => {
    const entry = inventory.find((e) => tableName(e) === name);
    expect(entry, name).toBeDefined();
    return entry!;
  };
  const days = (name: string) => {
    const { retention } = byName(name);
    return retention.kind === "time" ? retention.days : undefined;
  };

  it("every rule is well formed; time rules name existing timestamp columns", () => {
    for (const entry of inventory) {
      const table = tableName(entry);
      const { retention } = entry;
      expect(["account", "time", "registry", "lifecycle"], table).toContain(retention.kind);
      expect(retention.rule.trim().length, `${table} rule`).toBeGreaterThan(3);
      if (retention.kind !== "time") continue;
      expect(Number.isInteger(retention.days) && retention.days >= 0, `${table} days`).toBe(true);
      expect(retention.columns.length, `${table} columns`).toBeGreaterThan(0);
      for (const column of retention.columns) {
        expect(Object.keys(entry.columns), `${table}.${column} classified`).toContain(column);
        const info = dbTables[table]?.find((c) => c.name === column);
        expect(info, `${table}.${column} in D1`).toBeDefined();
        // Timestamps are integers (ms since the epoch, schema/columns.ts): a text column would compare wrongly.
        expect(info!.type.toLowerCase(), `${table}.${column} type`).toBe("integer");
      }
    }
  });

  it("keeps the policy §6 periods", () => {
    expect(sinks.find((s) => s.name === "access_logs")?.retention.days).toBe(90);
    expect(days("access_log_objects")).toBe(90);
    expect(days("error_logs")).toBe(90);
    expect(days("account_events")).toBe(365);
    // Tokens and sign-ins go as soon as they are expired (or used).
    expect(days("single_use_tokens")).toBe(0);
    expect(days("refresh_tokens")).toBe(0);
    expect(days("login_sessions")).toBe(0);
    expect(byName("users").retention.kind).toBe("account");
    // Usage logs: 12 months (sessions and CLI commands, policy §1 usage data).
    expect(days("sessions")).toBe(365);
    expect(days("command_log")).toBe(365);
    // Billing: events and a deleted account's Stripe references 12 months; an open checkout while it lasts.
    expect(days("stripe_events")).toBe(365);
    expect(days("billing_accounts")).toBe(365);
    expect(days("checkout_claims")).toBe(0);
  });

  it("purges children before the time-purged rows they reference", async () => {
    const order = inventory.map(tableName);
    for (const entry of inventory) {
      const child = tableName(entry);
      const { results } = await env.DB.prepare(`pragma foreign_key_list("${child}")`).all<{ table: string }>();
      for (const { table: parent } of results) {
        expect(order, `${child} → ${parent}`).toContain(parent);
        if (byName(parent).retention.kind === "time") expect(order.indexOf(child), `${child} before ${parent}`).toBeLessThan(order.indexOf(parent));
      }
    }
  });
});

/**
 * Stores outside D1 that the Worker writes (wrangler.toml): each R2 bucket and queue is either a
 * sink of the inventory, exported (policy §7), or the workspace store, handed out by its own
 * download. A binding added without that fails here.
 */
const NOT_A_SINK: Record<string, string> = {
  WORKSPACES: "the user's workspace: its content is theirs, downloaded through GET /v1/workspace/archive, never read by us (policy §3)",
};

/** The sinks that miss an export reader, by name. Pure, so the test below can prove it reports. */
const sinksWithoutReader = (entries: readonly SinkEntry[]) =>
  entries.flatMap((sink) => {
    try {
      sinkReader(sink);
      return [];
    } catch {
      return [sink.name];
    }
  });

const tomlBindings = (section: string) =>
  [...wranglerToml.matchAll(new RegExp(`^\\[\\[${section.replace(".", "\\.")}\\]\\]\\n(?:[^\\[].*\\n)*?binding\\s*=\\s*"([^"]+)"`, "gm"))].map((m) => m[1]!);

describe("sinks outside D1", () => {
  it("every R2 bucket in wrangler.toml is a sink of the inventory or the workspace store", () => {
    const buckets = tomlBindings("r2_buckets");
    expect(buckets).toEqual(expect.arrayContaining(["WORKSPACES", "LOGS"]));
    for (const binding of buckets) expect(sinks.some((s) => s.binding === binding) || Object.hasOwn(NOT_A_SINK, binding), binding).toBe(true);
  });

  it("the access-log queue feeds a sink", () => {
    expect(tomlBindings("queues.producers")).toEqual(["ACCESS_LOG_QUEUE"]);
    expect(sinks.map((s) => s.name)).toContain("access_logs");
  });

  it("every sink is exported, through a reader, with an index and classified fields", () => {
    expect(exportedSinks()).toEqual(sinks);
    expect(sinksWithoutReader(sinks)).toEqual([]);
    for (const sink of sinks) {
      expect(Object.keys(sink.fields), sink.name).toContain(sink.subject);
      expect(getTableConfig(sink.index).columns.map((c) => c.name), `${sink.name} index`).toContain("user_id");
      for (const [field, { category, purpose }] of Object.entries(sink.fields)) {
        expect(CATEGORIES, `${sink.name}.${field}`).toContain(category);
        expect(category, `${sink.name}.${field}`).not.toBe("infrastructure");
        expect(purpose.trim().length, `${sink.name}.${field} purpose`).toBeGreaterThan(3);
      }
      expect(sink.retention.days, sink.name).toBeGreaterThan(0);
    }
  });

  it("reports a sink the export cannot read (the check can fail)", () => {
    const unread: SinkEntry = { ...sinks[0]!, name: "request_bodies" };
    expect(sinksWithoutReader([...sinks, unread])).toEqual(["request_bodies"]);
  });
});
