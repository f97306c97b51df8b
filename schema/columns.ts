import { integer } from "drizzle-orm/sqlite-core";

/** Every timestamp is stored as milliseconds since the epoch (UTC). */
export const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });
