/** D1 through drizzle, and the few helpers every group's queries share. */
import { drizzle } from "drizzle-orm/d1";
import * as schema from "../../schema";

export const isUniqueViolation = (error: unknown): boolean => {
  const text = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ""}` : "";
  return text.includes("UNIQUE constraint failed");
};

export const newId = () => crypto.randomUUID();

export type Db = ReturnType<typeof drizzle<typeof schema>>;

export const openDb = (d1: D1Database): Db => drizzle(d1, { schema });
