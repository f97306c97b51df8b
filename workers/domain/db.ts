/** D1 through drizzle, and the few helpers every group's queries share. */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "../../schema";

export const isUniqueViolation = (error: unknown): boolean => {
  const text = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ""}` : "";
  return text.includes("UNIQUE constraint failed");
};

export const newId = () => crypto.randomUUID();

export type Db = ReturnType<typeof drizzle<typeof schema>>;

/** workerd hands every request of an isolate the same binding: one drizzle instance per binding, so prepared queries outlive a request. */
const dbs = new WeakMap<D1Database, Db>();

export function openDb(d1: D1Database): Db {
  let db = dbs.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    dbs.set(d1, db);
  }
  return db;
}

/**
 * A hot query built once per database instead of on every call: drizzle's query building costs
 * more CPU than the D1 round trip it leads to. `build` must leave every value to a
 * `sql.placeholder`, given at execution.
 */
export function preparedQuery<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    let query = built.get(db);
    if (!query) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}
