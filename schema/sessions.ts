import { sql } from "drizzle-orm";
import { index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./accounts";
import { timestamp } from "./columns";

/** How the Worker reaches a host's provisioner (docs/provisioner.md). Only `url` exists so far. */
export const HOST_TRANSPORTS = ["url"] as const;
export const HOST_STATUSES = ["active", "draining", "offline"] as const;

/** The GPU host registry: placement reads it; outbound calls go only to the hosts it lists. */
export const gpuHosts = sqliteTable("gpu_hosts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  transport: text("transport", { enum: HOST_TRANSPORTS }).notNull(),
  baseUrl: text("base_url").notNull(),
  /** Null for a host without GPUs (CPU plans only). */
  gpuType: text("gpu_type"),
  gpuCount: integer("gpu_count").notNull(),
  status: text("status", { enum: HOST_STATUSES }).notNull(),
  registeredAt: timestamp("registered_at").notNull(),
  lastSeenAt: timestamp("last_seen_at"),
});

/** ARCHITECTURE "Lifecycles": hot (volume on a host) → archiving → cold (R2) → restoring → hot; deleting → deleted on destroy. */
export const WORKSPACE_STATES = ["hot", "archiving", "cold", "restoring", "deleting", "deleted"] as const;
export type WorkspaceState = (typeof WORKSPACE_STATES)[number];

/** One workspace per user (a Docker volume on its host); its content is never stored here (policy §3). */
export const workspaces = sqliteTable(
  "workspaces",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id),
    /** The host holding the hot volume; null once cold. */
    hostId: text("host_id").references(() => gpuHosts.id),
    state: text("state", { enum: WORKSPACE_STATES }).notNull(),
    createdAt: timestamp("created_at").notNull(),
    lastUsedAt: timestamp("last_used_at").notNull(),
    deletedAt: timestamp("deleted_at"),
    sizeBytes: integer("size_bytes"),
    sizeMeasuredAt: timestamp("size_measured_at"),
  },
  (t) => [
    // At most one workspace per user that is not deleted; deleted rows stay for the session history.
    uniqueIndex("workspaces_one_per_user").on(t.userId).where(sql`state <> 'deleted'`),
    index("workspaces_user_idx").on(t.userId),
    index("workspaces_last_used_idx").on(t.lastUsedAt),
    index("workspaces_deleted_at_idx").on(t.deletedAt),
  ],
);

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

export const COMMANDS = ["connect", "disconnect", "destroy", "upload", "download"] as const;
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
