/**
 * Reconcile (ARCHITECTURE "Lifecycles"): repairs drift between D1 and each host, once a minute.
 * - a container with no live session in D1 is removed (a connect that died, a cleanup a host missed);
 * - a running session whose container vanished (or exited) is ended at its last seen time, so
 *   billing does not run on for a container that no longer runs;
 * - a `starting` session whose connect died is failed and its container removed;
 * - a `stopping` session (disconnect interrupted by a host fault) is finished;
 * - a live session of a deleted account is disconnected;
 * - a workspace marked `deleting` (destroy or account deletion interrupted) has its volume deleted.
 * Every step is idempotent and guarded by the state it expects, so a repeated or concurrent tick,
 * or a user acting meanwhile, is harmless.
 */
import { and, eq, inArray } from "drizzle-orm";
import { LIVE_SESSION_STATES, sessions, users, workspaces } from "../../../schema";
import type { Container } from "../../adapters/provisioner";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { type GpuHost, markHostSeen } from "../hosts";
import { lastSeenAt } from "../usage";
import { abandonStart, STARTING_STALE_MS } from "./connect";
import { disconnect, finishStopping } from "./disconnect";
import type { Session } from "./views";

/** Bounds per host and tick (D1 has ~100 bound parameters per query; a tick must end well within a minute). */
const MAX_SESSIONS_PER_HOST = 200;
const MAX_REPAIRS_PER_HOST = 20;
const ID_CHUNK = 90;

/** Docker states of a container that no longer runs anything. */
const GONE_STATES = new Set(["exited", "dead"]);

export interface HostReconcileResult {
  removedContainers: number;
  endedSessions: number;
  failedStarts: number;
  finishedStops: number;
  deletedWorkspaces: number;
  /** Repairs that failed for a reason other than the host going away (logged; retried next tick). */
  errors: number;
}

const chunks = <T>(items: T[], size = ID_CHUNK): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

export async function reconcileHost(ctx: DomainContext, host: GpuHost): Promise<HostReconcileResult> {
  const client = (await ctx.provisioner(host));
  const result: HostReconcileResult = { removedContainers: 0, endedSessions: 0, failedStarts: 0, finishedStops: 0, deletedWorkspaces: 0, errors: 0 };
  let repairs = 0;
  const budget = () => repairs++ < MAX_REPAIRS_PER_HOST;

  // D1 first, then the host: a session D1 holds as running already had its container made, so
  // one missing from the list that follows really vanished.
  const live = await ctx.db
    .select({ session: sessions, userDeletedAt: users.deletedAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.hostId, host.id), inArray(sessions.state, LIVE_SESSION_STATES)))
    .limit(MAX_SESSIONS_PER_HOST);
  const containers = await client.listContainers();
  await markHostSeen(ctx, host.id);
  const bySession = new Map(containers.map((c) => [c.sessionId, c]));
  const now = ctx.clock.now().getTime();
  /** Sessions whose container this pass removed: their workspace is free now. */
  const removed = new Set<string>();

  /**
   * One repair, counted against the tick's budget. A host that stops answering ends this host's
   * pass (the next tick retries); any other failure is logged and the other repairs go on, so one
   * stuck item never blocks the rest of the host.
   */
  const repair = async (what: string, userId: string | undefined, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof AppError && error.code === "provisioner_unavailable") throw error;
      result.errors++;
      ctx.log.error({ source: "cron", code: error instanceof AppError ? error.code : "internal", message: `reconcile ${host.id}: ${what}`, userId });
    }
  };

  for (const { session, userDeletedAt } of live) {
    const container = bySession.get(session.id);
    if (session.state === "starting") {
      if (now - session.createdAt.getTime() <= STARTING_STALE_MS) continue; // its connect may still be working
      if (!budget()) break;
      await repair(`fail stale start ${session.id}`, session.userId, async () => {
        await abandonStart(ctx, session);
        removed.add(session.id);
        result.failedStarts++;
      });
    } else if (session.state === "stopping") {
      if (!budget()) break;
      await repair(`finish stop ${session.id}`, session.userId, async () => {
        await finishStopping(ctx, session);
        removed.add(session.id);
        result.finishedStops++;
      });
    } else if (!container || GONE_STATES.has(container.state)) {
      if (!budget()) break;
      await repair(`end vanished ${session.id}`, session.userId, async () => {
        if (await endVanished(ctx, session)) result.endedSessions++;
        if (container) await client.removeContainer(session.id);
        removed.add(session.id);
      });
    } else if (userDeletedAt) {
      if (!budget()) break;
      // The account was deleted while a connect was under way: nothing of it keeps running.
      await repair(`stop deleted account's session ${session.id}`, session.userId, async () => {
        await disconnect(ctx, session.userId, session.id);
        removed.add(session.id);
        result.finishedStops++;
      });
    }
  }

  const liveIds = new Set(live.map((l) => l.session.id));
  for (const container of await orphans(ctx, containers.filter((c) => c.sessionId && !liveIds.has(c.sessionId)))) {
    if (!budget()) break;
    await repair(`remove orphan ${container.sessionId}`, undefined, async () => {
      await client.removeContainer(container.sessionId);
      removed.add(container.sessionId);
      result.removedContainers++;
    });
  }

  for (const workspace of await ctx.db.query.workspaces.findMany({
    where: and(eq(workspaces.hostId, host.id), eq(workspaces.state, "deleting")),
    limit: MAX_REPAIRS_PER_HOST,
  })) {
    if (!budget()) break;
    // A live session's container still mounts it: that session is ended first (above, or on a later tick).
    if (containers.some((c) => c.workspaceId === workspace.id && !removed.has(c.sessionId))) continue;
    await repair(`delete workspace ${workspace.id}`, workspace.userId, async () => {
      try {
        await client.deleteWorkspace(workspace.id);
      } catch (error) {
        if (error instanceof AppError && error.code === "workspace_busy") return; // a transfer still holds it: next tick
        throw error;
      }
      const [deleted] = await ctx.db
        .update(workspaces)
        .set({ state: "deleted", deletedAt: ctx.clock.now() })
        .where(and(eq(workspaces.id, workspace.id), eq(workspaces.userId, workspace.userId), eq(workspaces.state, "deleting")))
        .returning({ id: workspaces.id });
      if (deleted) result.deletedWorkspaces++;
    });
  }
  return result;
}

/**
 * The containers among `candidates` that belong to this deployment and whose session is not live,
 * read from D1 after the host's list: a connect that began meanwhile has its `starting` row
 * already (rows are written before containers are made), so its container is not taken for an orphan.
 * A container of a tenant D1 does not know (accounts are never erased from `users`, only
 * pseudonymised) was not made by this deployment — another one sharing the host, such as staging
 * or tests — and is left alone.
 */
async function orphans(ctx: DomainContext, candidates: Container[]): Promise<Container[]> {
  if (candidates.length === 0) return [];
  const stillLive = new Set<string>();
  const known = new Set<string>();
  for (const ids of chunks(candidates.map((c) => c.sessionId))) {
    const rows = await ctx.db.select({ id: sessions.id, state: sessions.state }).from(sessions).where(inArray(sessions.id, ids));
    for (const row of rows) {
      known.add(row.id);
      if ((LIVE_SESSION_STATES as readonly string[]).includes(row.state)) stillLive.add(row.id);
    }
  }
  const tenants = new Set<string>();
  for (const ids of chunks([...new Set(candidates.map((c) => c.tenantId ?? "").filter(Boolean))])) {
    for (const row of await ctx.db.select({ id: users.id }).from(users).where(inArray(users.id, ids))) tenants.add(row.id);
  }
  return candidates.filter((c) => !stillLive.has(c.sessionId) && (known.has(c.sessionId) || tenants.has(c.tenantId ?? "")));
}

/** Ends a running session whose container is gone at its last seen time; false when it was no longer running. */
async function endVanished(ctx: DomainContext, session: Session): Promise<boolean> {
  const seen = await lastSeenAt(ctx, session);
  const endedAt = new Date(Math.min(seen.getTime(), ctx.clock.now().getTime()));
  const started = session.startedAt ?? session.createdAt;
  const [ended] = await ctx.db
    .update(sessions)
    .set({ state: "ended", endedAt, durationMs: Math.max(0, endedAt.getTime() - started.getTime()), failureCode: "container_vanished" })
    .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "running")))
    .returning({ id: sessions.id });
  return Boolean(ended);
}
