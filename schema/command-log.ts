import { index, integer, sqliteTable, text, } from "drizzle-orm/sqlite-core";
import { timestamp } from "./columns";

export const COMMANDS = ["connect", "disconnect", "destroy", "upload", "download", "delete"] as const;

export type Command = (typeof COMMANDS)[number];

/** Policy §1: CLI commands issued to the API, with time, user and session. */
export const commandLog = sqliteTable(
  "command_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: text("user_id").notNull(),
    sessionId: text("session_id"),
    command: text("command", { enum: COMMANDS }).notNull(),
    at: timestamp("at").notNull(),
    requestId: text("request_id"),
  },
  (t) => [index("command_log_user_idx").on(t.userId), index("command_log_at_idx").on(t.at)],
);
