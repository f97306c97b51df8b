/**
 * Cold storage (ARCHITECTURE "Lifecycles", docs/decisions/0010-cold-storage.md): a workspace unused
 * for a while moves from its host to R2 (hot → archiving → cold), and the next connect brings it
 * back onto whichever host the session is placed on (cold → restoring → hot). Policy §6: "May be
 * moved to cold storage at any time"; nothing the user has a right to is ever lost on the way.
 *
 * Archive (cron): the host stages a snapshot of the workspace's tar with the SHA-256 of the whole and
 * of each fixed-size part; the Worker copies it part by part into an R2 multipart upload, checking
 * each part's hash, with progress in D1 so that any fault resumes at the next part. The hot copy is
 * deleted only after the complete object's size and hash match what the host produced and the
 * archive is committed, in one statement that a connect's cancel cannot also win (cold-copy.ts).
 *
 * Restore (connect): the R2 object streams into the host's import, which hashes it and keeps nothing
 * unless it is the archive that was committed. Until the restore is done the cold copy stays
 * authoritative; an interrupted restore leaves the workspace cold, as it was.
 *
 * Neither ever reads the content (policy §3): bytes pass through, only sizes and hashes are kept.
 */
import { and, asc, eq, exists, gte, inArray, isNull, lt, lte, ne, notExists, or, sql } from "drizzle-orm";
import { gpuHosts, LIVE_SESSION_STATES, sessions, workspaceArchives, workspaces } from "../../schema";
import { cancelArchive, coldObjectKey, coldStorageUnavailable, deleteColdCopy, findArchive, type WorkspaceArchive } from "./cold-copy";
import { type ColdStorageConfig, loadColdStorageConfig, type ProvisionerConfig } from "./config";
import type { DomainContext } from "./context";
import { AppError } from "./errors";
import { findHost, placeWorkspace } from "./hosts";
import { logError } from "./logs";
import type { Plan } from "./plans";
import { type ProvisionerClient, provisionerClient } from "./provisioner";
import { currentWorkspace, type Workspace, workspaceBusy } from "./workspace-records";

/** Idle workspaces (and archives in progress) looked at per tick; the part and time budget usually ends a tick first. */
const WORKSPACES_PER_TICK = 20;
/** A cron run holds an archive for its time budget plus this margin (a part in flight, the commit). */
const ARCHIVE_LEASE_MARGIN_MS = 2 * 60_000;
/** A restore holds the cold copy this long past its last progress; after that a connect takes it over. */
export const RESTORE_LEASE_MS = 2 * 60_000;
/** How often a restore writes its progress (and renews its lease). */
const RESTORE_PROGRESS_BYTES = 8 * 1024 * 1024;


/** A fault of the archive job, recorded on the archive row as `last_error_code` (never a message from R2 or a host). */
class ArchiveFault extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = "ArchiveFault";
  }
}

/** Anything R2 throws is R2 being unavailable for this tick: the hot copy stays, the next tick retries. */
async function r2<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch {
    throw new ArchiveFault("r2_unavailable");
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
export async function archiveIdleWorkspaces(ctx: DomainContext, settings: ProvisionerConfig): Promise<ArchiveTickResult> {
  const config = loadColdStorageConfig(ctx.env);
  const budget: TickBudget = { parts: config.partsPerTick, deadline: Date.now() + config.tickMs };
  const result: ArchiveTickResult = { claimed: 0, parts: 0, completed: 0, failed: 0, revertedRestores: 0 };
  const now = ctx.clock.now();

  // An archive row removed while its workspace was still archiving (a cleanup racing a claim):
  // nothing was committed, so the hot copy is the one.
  await ctx.db
    .update(workspaces)
    .set({ state: "hot", transferBytes: null })
    .where(and(eq(workspaces.state, "archiving"), notExists(ctx.db.select({ one: sql`1` }).from(workspaceArchives).where(eq(workspaceArchives.workspaceId, workspaces.id)))));

  result.revertedRestores = await revertDeadRestores(ctx, settings, now);

  const inProgress = await ctx.db.query.workspaceArchives.findMany({
    where: and(inArray(workspaceArchives.phase, ["uploading", "committed"]), or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now))),
    orderBy: [asc(workspaceArchives.updatedAt)],
    limit: WORKSPACES_PER_TICK,
  });
  for (const archive of inProgress) {
    if (outOfBudget(budget)) return result;
    await workOn(ctx, settings, config, archive, budget, result);
  }

  for (const workspace of await idleWorkspaces(ctx, config)) {
    if (outOfBudget(budget)) return result;
    const archive = await claimIdleWorkspace(ctx, config, workspace);
    if (!archive) continue;
    result.claimed++;
    await workOn(ctx, settings, config, archive, budget, result);
  }
  return result;
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
    partSize: config.partSizeBytes,
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
async function workOn(ctx: DomainContext, settings: ProvisionerConfig, config: ColdStorageConfig, archive: WorkspaceArchive, budget: TickBudget, result: ArchiveTickResult) {
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
  const client = provisionerClient(ctx, settings, host);
  try {
    const phase = held.phase === "uploading" ? await upload(ctx, client, held, budget, result) : held.phase;
    if (phase === "committed") {
      await finishArchive(ctx, client, held);
      result.completed++;
    }
  } catch (error) {
    result.failed++;
    const code = error instanceof ArchiveFault || error instanceof AppError ? error.code : "internal";
    await ctx.db
      .update(workspaceArchives)
      .set({ lastErrorCode: code })
      .where(and(eq(workspaceArchives.workspaceId, workspaceId), eq(workspaceArchives.userId, userId), eq(workspaceArchives.leaseUntil, leaseUntil)));
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cold-storage", code, message: `archive of workspace ${workspaceId} stopped; the next tick resumes it`, userId });
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
  const bucket = ctx.env.WORKSPACES;
  let archive = held;
  const stage = await client.stageExport(archive.workspaceId, { stageId: stageIdOf(archive), partSize: archive.partSize });
  if (stage.status === "staging") return "uploading";
  if (stage.sha256 !== archive.sha256 || stage.size !== archive.sizeBytes || stage.partSize !== archive.partSize) {
    // The first stage of this attempt, or the host lost its stage and made another one with other
    // bytes (a provisioner restart): the parts uploaded so far are not of this tar. From part 1.
    if (archive.uploadId) await abortUpload(ctx, archive);
    const [restarted] = await ctx.db
      .update(workspaceArchives)
      .set({ sizeBytes: stage.size, sha256: stage.sha256, partHashes: stage.partHashes, parts: [], uploadId: null, updatedAt: ctx.clock.now() })
      .where(ownArchive(archive))
      .returning();
    if (!restarted) return "uploading";
    archive = restarted;
  }
  const size = stage.size;
  const partHashes = stage.partHashes;
  if (!archive.uploadId) {
    // The whole archive's hash travels with the object: a restore checks it before reading a byte.
    const created = await r2(() => bucket.createMultipartUpload(archive.objectKey, { customMetadata: { sha256: stage.sha256, sizeBytes: String(size) } }));
    const [started] = await ctx.db.update(workspaceArchives).set({ uploadId: created.uploadId }).where(and(ownArchive(archive), isNull(workspaceArchives.uploadId))).returning();
    if (!started) {
      await r2(() => created.abort());
      return "uploading";
    }
    archive = started;
  }
  const multipart = bucket.resumeMultipartUpload(archive.objectKey, archive.uploadId!);

  while (archive.parts.length < partHashes.length) {
    if (outOfBudget(budget)) return "uploading";
    const n = archive.parts.length + 1;
    const bytes = new Uint8Array(await (await client.getExportPart(archive.workspaceId, n)).arrayBuffer());
    const expectedLength = n < partHashes.length ? archive.partSize : size - archive.partSize * (partHashes.length - 1);
    if (bytes.length !== expectedLength || hex(await crypto.subtle.digest("SHA-256", bytes)) !== partHashes[n - 1]) {
      // The stage is not what the host said it was: dropped, so the next tick stages it afresh.
      await client.deleteExport(archive.workspaceId);
      throw new ArchiveFault("archive_part_mismatch");
    }
    const uploaded = await r2(() => multipart.uploadPart(n, bytes));
    const parts = [...archive.parts, { partNumber: n, etag: uploaded.etag }];
    const [[next]] = await ctx.db.batch([
      ctx.db
        .update(workspaceArchives)
        .set({ parts, lastErrorCode: null, updatedAt: ctx.clock.now() })
        .where(and(ownArchive(archive), eq(workspaceArchives.uploadId, archive.uploadId!)))
        .returning(),
      ctx.db
        .update(workspaces)
        .set({ transferBytes: Math.min(n * archive.partSize, size) })
        .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "archiving"))),
    ]);
    if (!next) return "uploading"; // cancelled by a connect meanwhile: its cancel deletes what was uploaded
    archive = next;
    budget.parts--;
    result.parts++;
  }

  // Completed by an earlier run that stopped before committing: R2 then no longer knows the upload.
  const completed = await r2(async () => {
    try {
      await multipart.complete(archive.parts);
    } catch {
      // Checked below: the object is there and right, or the upload is started again.
    }
    return bucket.head(archive.objectKey);
  });
  if (!completed || completed.size !== size || completed.customMetadata?.sha256 !== stage.sha256) {
    await r2(() => bucket.delete(archive.objectKey));
    await ctx.db.update(workspaceArchives).set({ parts: [], uploadId: null }).where(ownArchive(archive));
    throw new ArchiveFault(completed ? "archive_verification_failed" : "archive_upload_lost");
  }
  return commitArchive(ctx, archive);
}

async function abortUpload(ctx: DomainContext, archive: WorkspaceArchive) {
  try {
    await ctx.env.WORKSPACES.resumeMultipartUpload(archive.objectKey, archive.uploadId!).abort();
  } catch {
    // Already completed or aborted: nothing to abort. (An upload R2 still holds expires on its own.)
  }
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

// ── Connect: make the workspace hot ────────────────────────────────────────────────────────────

/**
 * The user's workspace, hot, for a connect: an archive still uploading is cancelled (the hot copy
 * is intact), a cold workspace is restored onto the host placement picks. `workspace_busy` with
 * Retry-After while another request restores it or while a committed archive deletes the hot copy.
 * Undefined when the workspace was destroyed meanwhile (connect then makes a new one).
 */
export async function hotWorkspaceForConnect(ctx: DomainContext, settings: ProvisionerConfig, workspace: Workspace, plan: Plan): Promise<Workspace | undefined> {
  let current: Workspace | undefined = workspace;
  // A state can change under us once or twice (a cancel racing a commit); then the answer is busy.
  for (let round = 0; round < 3 && current; round++) {
    if (current.state === "hot") return current;
    if (current.state === "cold" || current.state === "restoring") return restoreWorkspace(ctx, settings, current, plan);
    if (current.state !== "archiving") throw workspaceBusy(current.state);
    if (!(await cancelArchive(ctx, current.userId, current.id))) {
      const archive = await findArchive(ctx, current.userId, current.id);
      if (archive && archive.phase !== "uploading") throw workspaceBusy("archiving");
    }
    current = await currentWorkspace(ctx, current.userId);
  }
  if (current && current.state !== "hot") throw workspaceBusy(current.state);
  return current;
}

/**
 * cold → restoring → hot on the host placement picks. The restorer holds the archive row's lease,
 * renewed as bytes flow; a restore that died is taken over once its lease ran out. Any failure
 * leaves the workspace cold with its cold copy, and no volume on the host.
 */
async function restoreWorkspace(ctx: DomainContext, settings: ProvisionerConfig, workspace: Workspace, plan: Plan): Promise<Workspace> {
  const { userId, id: workspaceId } = workspace;
  const archive = await findArchive(ctx, userId, workspaceId);
  if (archive?.phase !== "complete" || !archive.sha256 || archive.sizeBytes === null) {
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cold-storage", code: "cold_copy_missing", message: `workspace ${workspaceId} is ${workspace.state} without a complete cold copy`, userId });
    throw new AppError("internal", "Your workspace's cold copy is not recorded as complete; we have been told.");
  }
  const host = await placeWorkspace(ctx, settings, plan);
  const held = await takeRestoreLease(ctx, archive, ctx.clock.now());
  if (!held?.leaseUntil) throw workspaceBusy("restoring");
  const lease = { until: held.leaseUntil };
  const [restoring] = await ctx.db
    .update(workspaces)
    .set({ state: "restoring", hostId: host.id, transferBytes: 0 })
    .where(and(eq(workspaces.id, workspaceId), eq(workspaces.userId, userId), inArray(workspaces.state, ["cold", "restoring"])))
    .returning();
  if (!restoring) {
    await releaseRestoreLease(ctx, archive, lease.until);
    throw workspaceBusy((await currentWorkspace(ctx, userId))?.state ?? "deleted");
  }

  const client = provisionerClient(ctx, settings, host);
  let transfer: ReturnType<typeof restoreBody> | undefined;
  try {
    // A volume left by an earlier restore that failed on this host: the import needs none.
    await client.deleteWorkspace(workspaceId);
    let object: R2ObjectBody | null;
    try {
      object = await ctx.env.WORKSPACES.get(archive.objectKey);
    } catch {
      throw coldStorageUnavailable();
    }
    if (!object) {
      logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cold-storage", code: "cold_copy_missing", message: `workspace ${workspaceId}: no object in R2`, userId });
      throw new AppError("internal", "Your workspace's cold copy is missing; we have been told.");
    }
    if (object.size !== archive.sizeBytes || object.customMetadata?.sha256 !== archive.sha256) {
      await object.body.cancel();
      logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cold-storage", code: "cold_copy_corrupt", message: `workspace ${workspaceId}: R2 object size or hash metadata differs`, userId });
      throw coldStorageUnavailable("The cold copy of your workspace did not match its checksum; it is kept as it is and nothing was restored.");
    }
    transfer = restoreBody(ctx, archive, object.body, lease);
    await client.putArchive(workspaceId, transfer.body, archive.sha256, transfer.signal);
    await transfer.done; // the last progress written; a lease lost meanwhile is caught by the commit below
  } catch (error) {
    void transfer?.stop();
    const outcome = await transfer?.done;
    if (outcome?.leaseLost) throw workspaceBusy("restoring"); // taken over: the new restorer owns the state now
    await failRestore(ctx, client, archive, lease.until);
    if (outcome?.sourceFailed) throw coldStorageUnavailable();
    throw error;
  }

  const [[hot]] = await ctx.db.batch([
    ctx.db
      .update(workspaces)
      .set({ state: "hot", transferBytes: null, lastUsedAt: ctx.clock.now() })
      .where(and(eq(workspaces.id, workspaceId), eq(workspaces.userId, userId), eq(workspaces.state, "restoring"), eq(workspaces.hostId, host.id), holdsLease(ctx, archive, lease.until)))
      .returning(),
    releaseRestoreLease(ctx, archive, lease.until),
  ]);
  if (!hot) throw workspaceBusy("restoring");
  // The hot copy is the one now. A cold copy left by a failure here is replaced by the next archive.
  try {
    await deleteColdCopy(ctx, userId, workspaceId);
  } catch {
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "cold-storage", code: "cold_copy_not_deleted", message: `workspace ${workspaceId}: restored, cold copy left`, userId });
  }
  return hot;
}

const holdsLease = (ctx: DomainContext, archive: WorkspaceArchive, until: Date) =>
  exists(
    ctx.db
      .select({ one: sql`1` })
      .from(workspaceArchives)
      .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.leaseUntil, until))),
  );

const releaseRestoreLease = (ctx: DomainContext, archive: WorkspaceArchive, until: Date) =>
  ctx.db
    .update(workspaceArchives)
    .set({ leaseUntil: null })
    .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.leaseUntil, until)));

/** The lease on a complete cold copy, for a restore (or for reverting a dead one): taken only once the last one ran out. */
async function takeRestoreLease(ctx: DomainContext, archive: { workspaceId: string; userId: string }, now: Date): Promise<WorkspaceArchive | undefined> {
  const [held] = await ctx.db
    .update(workspaceArchives)
    .set({ leaseUntil: new Date(now.getTime() + RESTORE_LEASE_MS), updatedAt: now })
    .where(
      and(
        eq(workspaceArchives.workspaceId, archive.workspaceId),
        eq(workspaceArchives.userId, archive.userId),
        eq(workspaceArchives.phase, "complete"),
        or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now)),
      ),
    )
    .returning();
  return held;
}

/**
 * A restore whose connect died (its lease ran out) goes back to `cold`, with its partial volume
 * deleted, even if the user never connects again: the cold copy is authoritative, and inactivity
 * deletion (which waits while a workspace is restoring) sees it again.
 */
async function revertDeadRestores(ctx: DomainContext, settings: ProvisionerConfig, now: Date): Promise<number> {
  const dead = await ctx.db
    .select({ archive: workspaceArchives, hostId: workspaces.hostId })
    .from(workspaces)
    .innerJoin(workspaceArchives, and(eq(workspaceArchives.workspaceId, workspaces.id), eq(workspaceArchives.userId, workspaces.userId)))
    .where(and(eq(workspaces.state, "restoring"), eq(workspaceArchives.phase, "complete"), or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now))))
    .limit(WORKSPACES_PER_TICK);
  let reverted = 0;
  for (const { archive, hostId } of dead) {
    const held = await takeRestoreLease(ctx, archive, now);
    if (!held?.leaseUntil || !hostId) continue;
    await failRestore(ctx, provisionerClient(ctx, settings, await findHost(ctx, hostId)), held, held.leaseUntil);
    reverted++;
  }
  return reverted;
}

/** The cold copy stays authoritative: the partial volume goes (the host deletes it too), the workspace is cold again. */
async function failRestore(ctx: DomainContext, client: ProvisionerClient, archive: WorkspaceArchive, until: Date) {
  await client.deleteWorkspace(archive.workspaceId).catch(() => undefined); // the host may be what failed; the next restore deletes it first
  await ctx.db.batch([
    ctx.db
      .update(workspaces)
      .set({ state: "cold", hostId: null, transferBytes: null })
      .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "restoring"), holdsLease(ctx, archive, until))),
    releaseRestoreLease(ctx, archive, until),
  ]);
}

/**
 * The R2 object's bytes on their way to the host, never held. The body goes to the host as R2's
 * own stream (a branch of a tee: no JavaScript per chunk on that path, which made restores about
 * 1.6× slower in bench:cold); the other branch only counts, writing progress (and renewing the
 * lease) every few MiB, so the workspace view shows it and a dead restore is noticed. `done`
 * settles once counting ends: it says whether R2 (the source) failed; a lease another request
 * took over aborts the transfer through `signal`.
 */
function restoreBody(ctx: DomainContext, archive: WorkspaceArchive, source: ReadableStream<Uint8Array>, lease: { until: Date }) {
  const [body, toCount] = source.tee();
  const reader = toCount.getReader();
  const abort = new AbortController();
  const outcome = { sourceFailed: false, leaseLost: false };
  const done = (async () => {
    let moved = 0;
    let reported = 0;
    for (;;) {
      const next = await reader.read();
      if (next.done) return;
      moved += next.value.byteLength;
      if (moved - reported < RESTORE_PROGRESS_BYTES) continue;
      reported = moved;
      const now = ctx.clock.now();
      const until = new Date(now.getTime() + RESTORE_LEASE_MS);
      const [[renewed]] = await ctx.db.batch([
        ctx.db
          .update(workspaceArchives)
          .set({ leaseUntil: until, updatedAt: now })
          .where(and(eq(workspaceArchives.workspaceId, archive.workspaceId), eq(workspaceArchives.userId, archive.userId), eq(workspaceArchives.leaseUntil, lease.until)))
          .returning({ until: workspaceArchives.leaseUntil }),
        ctx.db
          .update(workspaces)
          .set({ transferBytes: moved })
          .where(and(eq(workspaces.id, archive.workspaceId), eq(workspaces.userId, archive.userId), eq(workspaces.state, "restoring"), holdsLease(ctx, archive, until))),
      ]);
      if (!renewed) {
        outcome.leaseLost = true;
        abort.abort();
        await reader.cancel();
        return;
      }
      lease.until = until;
    }
  })().then(
    () => outcome,
    () => ({ ...outcome, sourceFailed: true }),
  );
  // Stops counting once the host has failed: the rest of the object is not read for nothing.
  const stop = () => reader.cancel().catch(() => undefined);
  return { body, signal: abort.signal, done, stop };
}
