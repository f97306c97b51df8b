/**
 * Archive (cron): an idle workspace's tar, staged on its host, copied part by part into an R2
 * multipart upload with every part's SHA-256 checked; the hot copy is deleted only once the
 * archive is verified and committed (docs/decisions/0010-cold-storage.md).
 */
import { and, asc, eq, exists, gte, inArray, isNull, lt, lte, ne, notExists, or, sql } from "drizzle-orm";
import { gpuHosts, LIVE_SESSION_STATES, sessions, workspaceArchives, workspaces } from "../../../schema";
import type { UploadedPart } from "../../adapters/cold-store";
import type { ProvisionerClient } from "../../adapters/provisioner";
import type { ColdStorageConfig } from "../config";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { findHost } from "../hosts";
import { currentWorkspace, type Workspace } from "../owned";
import { coldObjectKey, deleteColdCopy, type WorkspaceArchive } from "./copy";
import { revertDeadRestores } from "./restore";

/** Idle workspaces (and archives in progress) looked at per tick; the part and time budget usually ends a tick first. */
const WORKSPACES_PER_TICK = 20;

/** Parts uploaded at once: production R2 takes each part at some tens of MB/s, so a few in flight fill the link (decision 0035). */
const PARTS_IN_FLIGHT = 4;

/** R2's limit on the parts of one multipart upload. */
const R2_MAX_PARTS = 10_000;

/**
 * The configured part size, or larger for a workspace that would need more than R2's 10,000
 * parts (with room for it to have grown 10 % since its size was measured): parts are streamed,
 * never held, so their size costs no memory.
 */
export const partSizeFor = (config: Pick<ColdStorageConfig, "partSizeBytes">, sizeBytes: number | null) => {
  const mib = 1024 * 1024;
  return Math.max(config.partSizeBytes, Math.ceil(((sizeBytes ?? 0) * 1.1) / R2_MAX_PARTS / mib) * mib);
};

/** A cron run holds an archive for its time budget plus this margin (a part in flight, the commit). */
const ARCHIVE_LEASE_MARGIN_MS = 2 * 60_000;

/** A fault of the archive job, recorded on the archive row as `last_error_code` (never a message from R2 or a host). */
class ArchiveFault extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = "ArchiveFault";
  }
}

const hex = (digest: ArrayBuffer) => Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");

// ── Archive (cron) ─────────────────────────────────────────────────────────────────────────────

export interface ArchiveTickResult {
  /** Idle workspaces moved to `archiving` by this tick. */
  claimed: number;
  /** Parts uploaded and verified by this tick. */
  parts: number;
  /** Archives finished: hot copy deleted, workspace cold. */
  completed: number;
  /** Archives that stopped on a fault (recorded on their row; the next tick resumes). */
  failed: number;
  /** Restores whose connect died, put back to cold. */
  revertedRestores: number;
}

interface TickBudget {
  parts: number;
  /** Wall-clock deadline: the tick's own duration (ctx.clock is the scheduled time, fixed for the run). */
  deadline: number;
}

const outOfBudget = (budget: TickBudget) => budget.parts <= 0 || Date.now() >= budget.deadline;

/**
 * One cron tick: resumes archives in progress, then claims idle workspaces, within the tick's
 * budget. Idempotent and safe to overlap: a lease on each archive row keeps two runs apart.
 */
export async function archiveIdleWorkspaces(ctx: DomainContext): Promise<ArchiveTickResult> {
  const config = ctx.config.coldStorage;
  const budget: TickBudget = { parts: config.partsPerTick, deadline: Date.now() + config.tickMs };
  const result: ArchiveTickResult = { claimed: 0, parts: 0, completed: 0, failed: 0, revertedRestores: 0 };
  const now = ctx.clock.now();

  // An archive row removed while its workspace was still archiving (a cleanup racing a claim):
  // nothing was committed, so the hot copy is the one.
  await ctx.db
    .update(workspaces)
    .set({ state: "hot", transferBytes: null })
    .where(and(eq(workspaces.state, "archiving"), notExists(ctx.db.select({ one: sql`1` }).from(workspaceArchives).where(eq(workspaceArchives.workspaceId, workspaces.id)))));

  result.revertedRestores = await revertDeadRestores(ctx, now);

  const inProgress = await ctx.db.query.workspaceArchives.findMany({
    where: and(inArray(workspaceArchives.phase, ["uploading", "committed"]), or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now))),
    orderBy: [asc(workspaceArchives.updatedAt)],
    limit: WORKSPACES_PER_TICK,
  });
  for (const archive of inProgress) {
    if (outOfBudget(budget)) return result;
    await workOn(ctx, config, archive, budget, result);
  }

  for (const workspace of await idleWorkspaces(ctx, config)) {
    if (outOfBudget(budget)) return result;
    const archive = await claimIdleWorkspace(ctx, config, workspace);
    if (!archive) continue;
    result.claimed++;
    await workOn(ctx, config, archive, budget, result);
  }
  return result;
}

/**
 * The earliest the archive job may take this hot workspace to cold storage if nothing uses it
 * before: `coldAfterMs` after its last use or the end of its last session (the rule of
 * `idleSince`). Null when it is not hot or a session is live (then it is not idle).
 */
export async function movesToColdStorageAt(ctx: DomainContext, workspace: Workspace, sessionLive: boolean): Promise<Date | null> {
  if (workspace.state !== "hot" || sessionLive) return null;
  const [row] = await ctx.db
    .select({ endedAt: sql<number | null>`max(${sessions.endedAt})` })
    .from(sessions)
    .where(and(eq(sessions.workspaceId, workspace.id), eq(sessions.userId, workspace.userId)));
  const lastUse = Math.max(workspace.lastUsedAt.getTime(), row?.endedAt ?? 0);
  return new Date(lastUse + ctx.config.coldStorage.coldAfterMs);
}

/** Conditions that make a hot workspace idle: unused since `cutoff`, with no session live or ended since. */
function idleSince(ctx: DomainContext, cutoff: Date) {
  const sessionOfWorkspace = (condition: ReturnType<typeof and>) =>
    ctx.db
      .select({ one: sql`1` })
      .from(sessions)
      .where(and(eq(sessions.workspaceId, workspaces.id), eq(sessions.userId, workspaces.userId), condition));
  return and(
    eq(workspaces.state, "hot"),
    lt(workspaces.lastUsedAt, cutoff),
    // On a host in service: an offline host is not asked (its workspaces wait for it to come back).
    exists(
      ctx.db
        .select({ one: sql`1` })
        .from(gpuHosts)
        .where(and(eq(gpuHosts.id, workspaces.hostId), ne(gpuHosts.status, "offline"))),
    ),
    notExists(sessionOfWorkspace(inArray(sessions.state, LIVE_SESSION_STATES))),
    notExists(sessionOfWorkspace(gte(sessions.endedAt, cutoff))),
  );
}

function idleWorkspaces(ctx: DomainContext, config: ColdStorageConfig): Promise<Workspace[]> {
  const cutoff = new Date(ctx.clock.now().getTime() - config.coldAfterMs);
  return ctx.db.query.workspaces.findMany({
    where: idleSince(ctx, cutoff),
    orderBy: [asc(workspaces.lastUsedAt)],
    limit: WORKSPACES_PER_TICK,
  });
}

/**
 * hot → archiving, only while the workspace is still idle (a connect that inserted its session
 * first wins), then a fresh archive row. A row left by an earlier attempt (a cancel or a restore
 * that did not finish its cleanup) is replaced: for a hot workspace it describes nothing.
 */
async function claimIdleWorkspace(ctx: DomainContext, config: ColdStorageConfig, workspace: Workspace): Promise<WorkspaceArchive | null> {
  const now = ctx.clock.now();
  const cutoff = new Date(now.getTime() - config.coldAfterMs);
  const [claimed] = await ctx.db
    .update(workspaces)
    .set({ state: "archiving", transferBytes: 0 })
    .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, workspace.userId), idleSince(ctx, cutoff)))
    .returning();
  if (!claimed?.hostId) return null;
  const fresh = {
    hostId: claimed.hostId,
    objectKey: coldObjectKey(claimed.id),
    uploadId: null,
    phase: "uploading" as const,
    partSize: partSizeFor(config, claimed.sizeBytes),
    sizeBytes: null,
    sha256: null,
    partHashes: null,
    parts: [],
    attempts: 0,
    lastErrorCode: null,
    leaseUntil: null,
    startedAt: now,
    updatedAt: now,
    completedAt: null,
  };
  const [archive] = await ctx.db
    .insert(workspaceArchives)
    .values({ workspaceId: claimed.id, userId: claimed.userId, ...fresh })
    .onConflictDoUpdate({ target: workspaceArchives.workspaceId, set: fresh })
    .returning();
  return archive ?? null;
}

/** Takes the archive's lease, advances it as far as the budget allows, records a fault, gives the lease back. */
async function workOn(ctx: DomainContext, config: ColdStorageConfig, archive: WorkspaceArchive, budget: TickBudget, result: ArchiveTickResult) {
  const { userId, workspaceId } = archive;
  const workspace = await ctx.db.query.workspaces.findFirst({ where: and(eq(workspaces.id, workspaceId), eq(workspaces.userId, userId)) });
  if (workspace?.state !== "archiving") {
    // A cancel (connect) that stopped before deleting what the attempt had uploaded: finish it.
    if (archive.phase === "uploading" && workspace?.state === "hot") await deleteColdCopy(ctx, userId, workspaceId);
    return;
  }
  const host = await findHost(ctx, archive.hostId);
  if (host.status === "offline") return; // resumed once the host is back in service
  const now = ctx.clock.now();
  const leaseUntil = new Date(now.getTime() + config.tickMs + ARCHIVE_LEASE_MARGIN_MS);
  const [held] = await ctx.db
    .update(workspaceArchives)
    .set({ leaseUntil, attempts: sql`${workspaceArchives.attempts} + 1`, updatedAt: now })
    .where(
      and(
        eq(workspaceArchives.workspaceId, workspaceId),
        eq(workspaceArchives.userId, userId),
        eq(workspaceArchives.phase, archive.phase),
        or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now)),
      ),
    )
    .returning();
  if (!held) return; // another run holds it
  const client = (await ctx.provisioner(host));
  try {
    const phase = held.phase === "uploading" ? await upload(ctx, client, held, budget, result) : held.phase;
    if (phase === "committed") {
      await finishArchive(ctx, client, held);
      result.completed++;
    }
  } catch (error) {
    result.failed++;
    // R2 unavailable for this tick: the hot copy stays, the next tick retries.
    const code = error instanceof AppError && error.code === "cold_storage_unavailable" ? "r2_unavailable" : error instanceof ArchiveFault || error instanceof AppError ? error.code : "internal";
    await ctx.db
      .update(workspaceArchives)
      .set({ lastErrorCode: code })
      .where(and(eq(workspaceArchives.workspaceId, workspaceId), eq(workspaceArchives.userId, userId), eq(workspaceArchives.leaseUntil, leaseUntil)));
    ctx.log.error({ source: "cold-storage", code, message: `archive of workspace ${workspaceId} stopped; the next tick resumes it`, userId });
  } finally {
    await ctx.db
      .update(workspaceArchives)
      .set({ leaseUntil: null })
      .where(and(eq(workspaceArchives.workspaceId, workspaceId), eq(workspaceArchives.userId, userId), eq(workspaceArchives.leaseUntil, leaseUntil)));
  }
}

/** The stage on the host belongs to one archive attempt: a stage made for an earlier one is never reused. */
const stageIdOf = (archive: WorkspaceArchive) => `archive-${archive.startedAt.getTime()}`;

const ownArchive = (archive: WorkspaceArchive) =>
  and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.phase, "uploading"));

/**
 * Uploads the parts not yet uploaded, then completes, verifies and commits. Returns the phase it
 * reached: `uploading` when the budget ran out, the host is still staging, or a connect cancelled.
 */
async function upload(ctx: DomainContext, client: ProvisionerClient, held: WorkspaceArchive, budget: TickBudget, result: ArchiveTickResult): Promise<"uploading" | "committed"> {
  let archive = held;
  const stage = await client.stageExport(archive.workspaceId, { stageId: stageIdOf(archive), partSize: archive.partSize });
  if (stage.status === "staging") return "uploading";
  if (stage.partHashes.length > R2_MAX_PARTS) {
    // Grown past what its last measured size gave room for: staged again (next tick) in larger parts.
    if (archive.uploadId) await ctx.coldStore.abortUpload(archive.objectKey, archive.uploadId);
    await ctx.db.update(workspaceArchives).set({ partSize: partSizeFor(ctx.config.coldStorage, stage.size), parts: [], uploadId: null }).where(ownArchive(archive));
    throw new ArchiveFault("archive_parts_too_small");
  }
  if (stage.sha256 !== archive.sha256 || stage.size !== archive.sizeBytes || stage.partSize !== archive.partSize) {
    // The first stage of this attempt, or the host lost its stage and made another one with other
    // bytes (a provisioner restart): the parts uploaded so far are not of this tar. From part 1.
    if (archive.uploadId) await ctx.coldStore.abortUpload(archive.objectKey, archive.uploadId);
    const [restarted] = await ctx.db
      .update(workspaceArchives)
      .set({ sizeBytes: stage.size, sha256: stage.sha256, partHashes: stage.partHashes, parts: [], uploadId: null, updatedAt: ctx.clock.now() })
      .where(ownArchive(archive))
      .returning();
    if (!restarted) return "uploading";
    archive = restarted;
  }
  const size = stage.size;
  if (!archive.uploadId) {
    // The whole archive's hash travels with the object: a restore checks it before reading a byte.
    const uploadId = await ctx.coldStore.createUpload(archive.objectKey, { sha256: stage.sha256, sizeBytes: String(size) });
    const [started] = await ctx.db.update(workspaceArchives).set({ uploadId }).where(and(ownArchive(archive), isNull(workspaceArchives.uploadId))).returning();
    if (!started) {
      await ctx.coldStore.abortUpload(archive.objectKey, uploadId);
      return "uploading";
    }
    archive = started;
  }
  const uploadId = archive.uploadId!;

  const uploaded = await uploadMissingParts(ctx, client, archive, stage, budget, result);
  if (!uploaded) return "uploading";
  archive = uploaded;

  // Completed by an earlier run that stopped before committing: R2 then no longer knows the upload.
  await ctx.coldStore.completeUpload(archive.objectKey, uploadId, archive.parts).catch(() => {
    // Checked below: the object is there and right, or the upload is started again.
  });
  const completed = await ctx.coldStore.head(archive.objectKey);
  if (!completed || completed.size !== size || completed.sha256 !== stage.sha256) {
    await ctx.coldStore.delete(archive.objectKey);
    await ctx.db.update(workspaceArchives).set({ parts: [], uploadId: null }).where(ownArchive(archive));
    throw new ArchiveFault(completed ? "archive_verification_failed" : "archive_upload_lost");
  }
  return commitArchive(ctx, archive);
}

/**
 * The parts not yet in R2, `PARTS_IN_FLIGHT` at a time, each recorded in D1 as soon as it is
 * verified (in any order: a resumed archive uploads only the numbers missing). A failed part stops
 * new ones; those in flight finish and are recorded, then the failure is thrown (the next tick
 * resumes). The archive row once every part is in, null when the budget ran out or a connect
 * cancelled.
 */
async function uploadMissingParts(
  ctx: DomainContext,
  client: ProvisionerClient,
  held: WorkspaceArchive,
  stage: { size: number; partHashes: string[] },
  budget: TickBudget,
  result: ArchiveTickResult,
): Promise<WorkspaceArchive | null> {
  const { partSize, uploadId } = held;
  const count = stage.partHashes.length;
  const lengthOf = (n: number) => (n < count ? partSize : stage.size - partSize * (count - 1));
  const done = new Set(held.parts.map((part) => part.partNumber));
  const queue = Array.from({ length: count }, (_, i) => i + 1).filter((n) => !done.has(n));
  let archive = held;
  let cancelled = false;
  let failure: { error: unknown } | undefined;
  // One D1 write at a time, each with every part verified so far: concurrent parts never overwrite each other's.
  let recorded = Promise.resolve();
  const record = (part: UploadedPart) => {
    recorded = recorded.then(async () => {
      if (cancelled) return;
      const parts = [...archive.parts, part].sort((a, b) => a.partNumber - b.partNumber);
      const [[next]] = await ctx.db.batch([
        ctx.db
          .update(workspaceArchives)
          .set({ parts, lastErrorCode: null, updatedAt: ctx.clock.now() })
          .where(and(ownArchive(archive), eq(workspaceArchives.uploadId, uploadId!)))
          .returning(),
        ctx.db
          .update(workspaces)
          .set({ transferBytes: parts.reduce((sum, { partNumber }) => sum + lengthOf(partNumber), 0) })
          .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "archiving"))),
      ]);
      if (!next) {
        cancelled = true; // cancelled by a connect meanwhile: its cancel deletes what was uploaded
        return;
      }
      archive = next;
      result.parts++;
    });
    return recorded;
  };
  const lane = async () => {
    while (queue.length > 0 && !failure && !cancelled && !outOfBudget(budget)) {
      const n = queue.shift()!;
      budget.parts--; // taken when the part starts: the tick's budget bounds what is in flight too
      try {
        await record(await uploadPart(ctx, client, archive, n, lengthOf(n), stage.partHashes[n - 1]!));
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: PARTS_IN_FLIGHT }, lane));
  await recorded;
  if (failure) throw failure.error;
  return !cancelled && archive.parts.length === count ? archive : null;
}

/**
 * One part, streamed from the host to R2 (no JavaScript per chunk, never held): a tee sends one
 * branch to `uploadPart` through a FixedLengthStream of the manifest's length, the other to a
 * SHA-256 digest stream. Its etag is returned only when length and hash are the manifest's; a part
 * that is not is never listed in the completed object (decision 0035), and the stage is dropped.
 */
async function uploadPart(ctx: DomainContext, client: ProvisionerClient, archive: WorkspaceArchive, n: number, length: number, sha256: string): Promise<UploadedPart> {
  const response = await client.getExportPart(archive.workspaceId, n);
  if (!response.body) throw new ArchiveFault("archive_part_mismatch");
  const [toR2, toHash] = response.body.tee();
  const fixed = new FixedLengthStream(length);
  const r2Failed = new AbortController();
  const piped = toR2.pipeTo(fixed.writable, { signal: r2Failed.signal });
  const uploaded = ctx.coldStore.uploadPart(archive.objectKey, archive.uploadId!, n, fixed.readable).catch(async (error: unknown) => {
    // R2 no longer reads: the pipe into it stops (a write waiting for a reader would wait forever),
    // and the host's bytes still reach the digest.
    r2Failed.abort();
    await fixed.readable.cancel().catch(() => undefined); // R2 may hold its reader: then it cancelled already
    throw error;
  });
  const digest = new crypto.DigestStream("SHA-256");
  const hashed = toHash.pipeTo(digest).then(() => digest.digest);
  const [part, hash, pipe] = await Promise.allSettled([uploaded, hashed, piped]);
  if (hash.status === "rejected") throw new ArchiveFault("archive_part_unreadable"); // the host's stream broke: the stage is kept
  if ((pipe.status === "rejected" && !r2Failed.signal.aborted) || hex(hash.value) !== sha256) {
    // Another length (the FixedLengthStream refused it) or other bytes than the host said: the
    // stage is dropped, so the next tick stages it afresh.
    await client.deleteExport(archive.workspaceId);
    throw new ArchiveFault("archive_part_mismatch");
  }
  if (part.status === "rejected") throw part.reason;
  return part.value;
}

/**
 * uploading → committed, only while the workspace is still `archiving`: the twin of
 * cancelArchive's statement, so exactly one of them wins. From here the cold copy is the one.
 */
async function commitArchive(ctx: DomainContext, archive: WorkspaceArchive): Promise<"uploading" | "committed"> {
  const [committed] = await ctx.db
    .update(workspaceArchives)
    .set({ phase: "committed", uploadId: null, updatedAt: ctx.clock.now() })
    .where(
      and(
        ownArchive(archive),
        exists(
          ctx.db
            .select({ one: sql`1` })
            .from(workspaces)
            .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "archiving"))),
        ),
      ),
    )
    .returning();
  if (committed) return "committed";
  // A connect cancelled after the object was completed: the hot copy is the one, the object is garbage.
  const workspace = await currentWorkspace(ctx, archive.userId);
  if (workspace?.id === archive.workspaceId && workspace.state === "hot") await deleteColdCopy(ctx, archive.userId, archive.workspaceId);
  return "uploading";
}

/** After the commit only: the hot copy and the stage go, and the workspace is cold. Idempotent (a crash here is finished next tick). */
async function finishArchive(ctx: DomainContext, client: ProvisionerClient, archive: WorkspaceArchive) {
  await client.deleteWorkspace(archive.workspaceId);
  await client.deleteExport(archive.workspaceId);
  const now = ctx.clock.now();
  await ctx.db.batch([
    ctx.db
      .update(workspaces)
      .set({ state: "cold", hostId: null, transferBytes: null })
      .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "archiving"))),
    ctx.db
      .update(workspaceArchives)
      .set({ phase: "complete", completedAt: now, updatedAt: now, lastErrorCode: null })
      .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.phase, "committed"))),
  ]);
}
