import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./accounts";
import { timestamp } from "./columns";
import { gpuHosts } from "./hosts";
import { workspaces } from "./workspaces";

export const SESSION_STATES = ["starting", "running", "stopping", "ended", "failed"] as const;

export type SessionState = (typeof SESSION_STATES)[number];

/** The states that hold (or are about to hold, or still hold) a container. */
export const LIVE_SESSION_STATES = ["starting", "running", "stopping"] as const satisfies readonly SessionState[];

/**
 * A GPU session (policy §1 usage data: start/end times, duration, GPU plan; technical data:
 * container id, port assignments, resource allocation). Billing reads started_at → ended_at.
 */
export const sessions = sqliteTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id),
    hostId: text("host_id")
      .notNull()
      .references(() => gpuHosts.id),
    planId: text("plan_id").notNull(),
    /** The catalog image's name (workers/domain/plans/images.ts); sessions before the catalog ran busybox, now `minimal`. */
    image: text("image").notNull().default("minimal"),
    state: text("state", { enum: SESSION_STATES }).notNull(),
    /** When connect was asked for. */
    createdAt: timestamp("created_at").notNull(),
    /** When the container ran: billing starts here. */
    startedAt: timestamp("started_at"),
    /** When disconnect (or a failure) ended it: billing stops here. */
    endedAt: timestamp("ended_at"),
    durationMs: integer("duration_ms"),
    containerId: text("container_id"),
    gpuType: text("gpu_type"),
    gpuCount: integer("gpu_count").notNull(),
    gpuIds: text("gpu_ids", { mode: "json" }).$type<string[]>(),
    cpus: real("cpus").notNull(),
    memoryMb: integer("memory_mb").notNull(),
    pidsLimit: integer("pids_limit").notNull(),
    ports: text("ports", { mode: "json" }).$type<{ name: string; port: number }[]>().notNull(),
    /** Why it failed: an error code, never a message from the host. */
    failureCode: text("failure_code"),
  },
  (t) => [
    // ARCHITECTURE "Data": exactly one live session per user, enforced by the database, so N
    // parallel connects make one session (and one container).
    uniqueIndex("sessions_one_live_per_user").on(t.userId).where(sql`state in ('starting', 'running', 'stopping')`),
    index("sessions_user_created_idx").on(t.userId, t.createdAt),
    index("sessions_host_state_idx").on(t.hostId, t.state),
    index("sessions_ended_at_idx").on(t.endedAt),
  ],
);

export type Session = typeof sessions.$inferSelect;
