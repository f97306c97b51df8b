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
    /** Bytes moved so far by the archive or restore in progress (progress shown to the user). */
    transferBytes: integer("transfer_bytes"),
    /** When the 7-day warning before inactivity deletion was emailed; activity after it voids it (policy §6). */
    deletionWarnedAt: timestamp("deletion_warned_at"),
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

export const ARCHIVE_PHASES = ["uploading", "committed", "complete"] as const;
export type ArchivePhase = (typeof ARCHIVE_PHASES)[number];

/**
 * The cold copy of a workspace in R2 (ARCHITECTURE "Lifecycles"): an R2 multipart upload of the
 * host's tar, in fixed-size parts, with progress here so an interrupted transfer resumes. The hot
 * copy is deleted only after every part matched what the host produced (`committed`, then
 * `complete`). Never the content itself (policy §3): sizes, checksums and R2 references.
 */
export const workspaceArchives = sqliteTable(
  "workspace_archives",
  {
    workspaceId: text("workspace_id")
      .primaryKey()
      .references(() => workspaces.id),
    userId: text("user_id").notNull(),
    /** The host the archive is read from. */
    hostId: text("host_id").notNull(),
    objectKey: text("object_key").notNull(),
    /** The R2 multipart upload in progress; null once complete. */
    uploadId: text("upload_id"),
    phase: text("phase", { enum: ARCHIVE_PHASES }).notNull(),
    partSize: integer("part_size").notNull(),
    /** The tar as the host produced it: size, SHA-256 and the SHA-256 of each part. */
    sizeBytes: integer("size_bytes"),
    sha256: text("sha256"),
    partHashes: text("part_hashes", { mode: "json" }).$type<string[]>(),
    /** Parts uploaded and verified so far, in order. */
    parts: text("parts", { mode: "json" }).$type<{ partNumber: number; etag: string }[]>().notNull(),
    attempts: integer("attempts").notNull(),
    lastErrorCode: text("last_error_code"),
    /** A cron run holds the archive until then: overlapping runs never work on it twice. */
    leaseUntil: timestamp("lease_until"),
    startedAt: timestamp("started_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
    completedAt: timestamp("completed_at"),
  },
  (t) => [index("workspace_archives_user_idx").on(t.userId), index("workspace_archives_phase_idx").on(t.phase)],
);
