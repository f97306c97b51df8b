/** Restore on connect: the cold copy streams from R2 into the host's import, which verifies it; until done the cold copy stays authoritative (docs/decisions/0010-cold-storage.md). */
import { and, eq, inArray, isNull, lte, or } from "drizzle-orm";
import { workspaceArchives, workspaces } from "../../../schema";
import type { ProvisionerClient } from "../../adapters/provisioner";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { placeWorkspace } from "../hosts";
import { currentWorkspace, type Workspace, workspaceBusy } from "../owned";
import type { Plan } from "../plans";
import { cancelArchive, deleteColdCopy, findArchive, type WorkspaceArchive } from "./copy";
import { holdsLease, releaseRestoreLease, RESTORE_LEASE_MS, takeRestoreLease } from "./leases";

/** How often a restore writes its progress (and renews its lease). */
const RESTORE_PROGRESS_BYTES = 8 * 1024 * 1024;

/** Ranges of the cold copy requested before they are read (the one being read included). */
const RESTORE_READ_AHEAD = 4;

/** Dead restores put back to cold per archive tick. */
const REVERTS_PER_TICK = 20;

// ── Connect: make the workspace hot ────────────────────────────────────────────────────────────

/**
 * The user's workspace, hot, for a connect: an archive still uploading is cancelled (the hot copy
 * is intact), a cold workspace is restored onto the host placement picks. `workspace_busy` with
 * Retry-After while another request restores it or while a committed archive deletes the hot copy.
 * Undefined when the workspace was destroyed meanwhile (connect then makes a new one).
 */
export async function hotWorkspaceForConnect(ctx: DomainContext, workspace: Workspace, plan: Plan): Promise<Workspace | undefined> {
  let current: Workspace | undefined = workspace;
  // A state can change under us once or twice (a cancel racing a commit); then the answer is busy.
  for (let round = 0; round < 3 && current; round++) {
    if (current.state === "hot") return current;
    if (current.state === "cold" || current.state === "restoring") return restoreWorkspace(ctx, current, plan);
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
async function restoreWorkspace(ctx: DomainContext, workspace: Workspace, plan: Plan): Promise<Workspace> {
  const { userId, id: workspaceId } = workspace;
  const archive = await findArchive(ctx, userId, workspaceId);
  if (archive?.phase !== "complete" || !archive.sha256 || archive.sizeBytes === null) {
    ctx.log.error({ source: "cold-storage", code: "cold_copy_missing", message: `workspace ${workspaceId} is ${workspace.state} without a complete cold copy`, userId });
    throw new AppError("internal", "Your workspace's cold copy is not recorded as complete; we have been told.");
  }
  const host = await placeWorkspace(ctx, plan);
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

  const client = (await ctx.provisioner(host));
  let transfer: ReturnType<typeof restoreBody> | undefined;
  try {
    // A volume left by an earlier restore that failed on this host: the import needs none.
    await client.deleteWorkspace(workspaceId);
    const object = await ctx.coldStore.get(archive.objectKey, rangeOf(archive, 0));
    if (!object) {
      ctx.log.error({ source: "cold-storage", code: "cold_copy_missing", message: `workspace ${workspaceId}: no object in R2`, userId });
      throw new AppError("internal", "Your workspace's cold copy is missing; we have been told.");
    }
    if (object.size !== archive.sizeBytes || object.sha256 !== archive.sha256) {
      await object.body.cancel();
      ctx.log.error({ source: "cold-storage", code: "cold_copy_corrupt", message: `workspace ${workspaceId}: R2 object size or hash metadata differs`, userId });
      throw new AppError("cold_storage_unavailable", "The cold copy of your workspace did not match its checksum; it is kept as it is and nothing was restored.");
    }
    transfer = restoreBody(ctx, archive, readAhead(ctx, archive, object.body), lease);
    await client.putArchive(workspaceId, transfer.body, { size: archive.sizeBytes, sha256: archive.sha256 }, plan.workspaceMb, transfer.signal);
    await transfer.done; // the last progress written; a lease lost meanwhile is caught by the commit below
  } catch (error) {
    void transfer?.stop();
    const outcome = await transfer?.done;
    if (outcome?.leaseLost) throw workspaceBusy("restoring"); // taken over: the new restorer owns the state now
    await failRestore(ctx, client, archive, lease.until);
    if (outcome?.sourceFailed) throw new AppError("cold_storage_unavailable", "Cold storage did not answer; your workspace is kept there. Try again shortly.");
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
    ctx.log.error({ source: "cold-storage", code: "cold_copy_not_deleted", message: `workspace ${workspaceId}: restored, cold copy left`, userId });
  }
  return hot;
}

/**
 * A restore whose connect died (its lease ran out) goes back to `cold`, with its partial volume
 * deleted, even if the user never connects again: the cold copy is authoritative, and inactivity
 * deletion (which waits while a workspace is restoring) sees it again.
 */
export async function revertDeadRestores(ctx: DomainContext, now: Date): Promise<number> {
  const dead = await ctx.db
    .select({ archive: workspaceArchives, hostId: workspaces.hostId })
    .from(workspaces)
    .innerJoin(workspaceArchives, and(eq(workspaceArchives.workspaceId, workspaces.id), eq(workspaceArchives.userId, workspaces.userId)))
    .where(and(eq(workspaces.state, "restoring"), eq(workspaceArchives.phase, "complete"), or(isNull(workspaceArchives.leaseUntil), lte(workspaceArchives.leaseUntil, now))))
    .limit(REVERTS_PER_TICK);
  let reverted = 0;
  for (const { archive, hostId } of dead) {
    const held = await takeRestoreLease(ctx, archive, now);
    if (!held?.leaseUntil || !hostId) continue;
    await failRestore(ctx, (await ctx.provisioner(hostId)), held, held.leaseUntil);
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

/** Range `i` of the cold copy: its archive's part size each (an empty object is read whole). */
function rangeOf(archive: WorkspaceArchive, i: number) {
  const size = archive.sizeBytes ?? 0;
  return size === 0 ? undefined : { offset: i * archive.partSize, length: Math.min(archive.partSize, size - i * archive.partSize) };
}

/**
 * The cold copy as one stream of ranged reads, each asked of R2 up to `RESTORE_READ_AHEAD`
 * ranges before it is read, so a range's first byte is not waited for once the one before it
 * ends. Each range is piped as R2 streams it (no JavaScript per chunk); a range that fails fails
 * the stream, and the ranges asked ahead are cancelled.
 */
function readAhead(ctx: DomainContext, archive: WorkspaceArchive, first: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const count = archive.sizeBytes ? Math.ceil(archive.sizeBytes / archive.partSize) : 1;
  // Of known length, so its tee branch goes to the host as it is (fetch sends Content-Length).
  const { readable, writable } = new FixedLengthStream(archive.sizeBytes ?? 0);
  const pending: Promise<ReadableStream<Uint8Array>>[] = [Promise.resolve(first)];
  let next = 1;
  const askAhead = () => {
    for (; next < count && pending.length < RESTORE_READ_AHEAD; next++) {
      const range = ctx.coldStore.get(archive.objectKey, rangeOf(archive, next)).then((object) => {
        if (!object) throw new AppError("cold_storage_unavailable", "The cold copy of your workspace is gone from cold storage.");
        return object.body;
      });
      range.catch(() => undefined); // seen when its turn comes, or cancelled with the rest
      pending.push(range);
    }
  };
  (async () => {
    askAhead();
    while (pending.length > 0) {
      const body = await pending.shift()!;
      askAhead();
      await body.pipeTo(writable, { preventClose: true });
    }
    await writable.close();
  })().catch(async (error: unknown) => {
    await writable.abort(error).catch(() => undefined);
    for (const range of pending) void range.then((body) => body.cancel(), () => undefined);
  });
  return readable;
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
