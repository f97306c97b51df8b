import { measureDatabase } from "../domain/capacity";
import type { Job } from "./job";

/** Daily: the database's size and row counts, and a warning to the admins while it nears D1's limit. */
export const databaseSizeJob: Job = { name: "database-size", run: measureDatabase };
