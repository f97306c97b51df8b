import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./accounts";
import { timestamp } from "./columns";
import { gpuHosts } from "./hosts";

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
    /** The public half of the workspace's SSH host key (the private half lives in the workspace), read at each start: shown so a first connection can be verified. */
    sshHostKey: text("ssh_host_key"),
  },
  (t) => [
    // At most one workspace per user that is not deleted; deleted rows stay for the session history.
    uniqueIndex("workspaces_one_per_user").on(t.userId).where(sql`state <> 'deleted'`),
    index("workspaces_user_idx").on(t.userId),
    index("workspaces_last_used_idx").on(t.lastUsedAt),
    index("workspaces_deleted_at_idx").on(t.deletedAt),
  ],
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
