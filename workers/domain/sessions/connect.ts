/**
 * GPU sessions (ARCHITECTURE "Lifecycles"): starting → running → stopping → ended, or failed.
 * connect = create or resume; disconnect = stop the container, keep the workspace. Exactly one live
 * session per user is the database's job (a partial unique index), so parallel connects make one
 * session and one container: the `starting` row is inserted before anything is asked of a host,
 * and whoever loses that insert waits for the winner's session instead of making its own.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { LIVE_SESSION_STATES, sessions, sshKeys, workspaces } from "../../../schema";
import type { ProvisionerClient } from "../../adapters/provisioner";
import { commandEvent } from "../audit";
import { cancelArchive, hotWorkspaceForConnect } from "../cold-storage";
import type { DomainContext } from "../context";
import { isUniqueViolation, newId } from "../db";
import { AppError, ERROR_CODES, type ErrorCode } from "../errors";
import { findHost, type GpuHost, hostHasRoom, noCapacity, placeWorkspace } from "../hosts";
import { currentWorkspace, findUser, workspaceBusy } from "../owned";
import { defaultImageFor, findImage, findPlan, type Plan, userEntitlement, type WorkspaceImage } from "../plans";
import { nextMonthStart, usageLimitRefusal } from "../usage";
import { finishStopping } from "./disconnect";
import { findLiveSession, ownedSession, type Session, sessionView, type SessionView } from "./views";

/** How often, and how long, a connect that lost the race waits for the winner's container. */
const CONNECT_POLL_MS = 250;

const CONNECT_WAIT_POLLS = 240; // 60 s

/** A `starting` row older than this belongs to a connect that died mid-way (longer than a create may take). */
export const STARTING_STALE_MS = 2 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Batch = [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

// ── connect ───────────────────────────────────────────────────────────────────────────────────

export interface ConnectResult {
  session: SessionView;
  /** created: this call started it; existing: it was running already; starting: still starting, poll it. */
  outcome: "created" | "existing" | "starting";
}

export interface ConnectInput {
  /** A catalog image's name; absent: the deployment's or the plan's default. */
  image?: string;
}

/** Create or resume the user's session; idempotent (a live session is returned, never doubled). */
export async function connect(ctx: DomainContext, userId: string, input: ConnectInput = {}): Promise<ConnectResult> {
  const user = await findUser(ctx, userId);
  const { plan, restrictions } = await userEntitlement(ctx, user);
  const [restriction] = restrictions;
  if (restriction === "email_unverified") throw new AppError("email_unverified", "Confirm your email address with the link we sent, then connect again.");
  if (restriction === "subscription_past_due") throw new AppError("subscription_past_due", "Your last payment failed and the grace period is over; update your payment method in the billing portal.");
  if (restriction === "subscription_canceled") throw new AppError("subscription_canceled", "Your subscription has ended; subscribe again to start GPU sessions.");
  if (restriction === "no_plan" || !plan) throw new AppError("no_plan", "Your account has no plan yet; choose one to start GPU sessions.");
  const atLimit = await usageLimitRefusal(ctx, userId);
  if (atLimit) {
    const until = nextMonthStart(ctx.clock.now()).toISOString();
    throw new AppError(
      "usage_limit_reached",
      `Your GPU time in ${atLimit.month} reached the ${atLimit.limitHours}-hour monthly limit you set, and you chose to be disconnected at it. Sessions start again from ${until}, or now if you raise or remove the limit, or choose a notice only (PATCH /v1/account).`,
    );
  }

  const image = sessionImage(ctx, plan, input.image);

  let polls = 0;
  /** The session another connect was starting while this one waited. */
  let awaited: string | undefined;
  // Each round either returns, waits for another request's connect, or finishes a stale state.
  for (let round = 0; round < CONNECT_WAIT_POLLS + 10; round++) {
    const live = await findLiveSession(ctx, userId);
    if (!live) {
      // The connect this one waited for failed: report its failure rather than try the same host again.
      if (awaited) await throwIfFailed(ctx, userId, awaited);
      const claim = await claimSession(ctx, userId, plan, image);
      if (!claim) continue; // another connect won the insert: wait for its session
      return { session: await sessionView(ctx, await startSession(ctx, claim)), outcome: "created" };
    }
    // Connect is idempotent for the session it would make: one on another image is not that one.
    if (input.image !== undefined && live.image !== image.name && live.state !== "stopping") {
      throw new AppError("session_image_differs", `Your session runs the ${live.image} image; disconnect first to start one on ${image.name}.`);
    }
    if (live.state === "running") {
      await commandEvent(ctx, userId, "connect", live.id);
      return { session: await sessionView(ctx, live), outcome: "existing" };
    }
    if (live.state === "stopping") {
      // A disconnect that did not finish (the host was down): finish it, then connect afresh.
      await finishStopping(ctx, live);
      continue;
    }
    if (ctx.clock.now().getTime() - live.createdAt.getTime() > STARTING_STALE_MS) {
      await abandonStart(ctx, live);
      awaited = undefined; // dead, not failed by a host: start afresh
      continue;
    }
    awaited = live.id;
    if (polls >= CONNECT_WAIT_POLLS) {
      await commandEvent(ctx, userId, "connect", live.id);
      return { session: await sessionView(ctx, live), outcome: "starting" };
    }
    polls++;
    await sleep(CONNECT_POLL_MS);
  }
  throw new AppError("session_busy", "Your session is changing state; try again in a few seconds.");
}

/** The catalog image a session of this plan runs: the one asked for, else the deployment's default, else the plan's. */
function sessionImage(ctx: DomainContext, plan: Plan, name: string | undefined): WorkspaceImage {
  if (name !== undefined) {
    const image = findImage(name);
    if (!image) throw new AppError("unknown_image", `There is no image named "${name.slice(0, 64)}"; GET /v1/images lists them.`);
    if (!image.plans.includes(plan.id)) throw new AppError("image_not_in_plan", `The ${image.name} image is not for ${plan.name} sessions; GET /v1/images says which plans may run it.`);
    return image;
  }
  const configured = ctx.config.provisioner.defaultImage;
  if (configured !== null) {
    const image = findImage(configured);
    if (!image) throw new AppError("not_configured", "DEFAULT_IMAGE is not an image of the catalog.");
    if (image.plans.includes(plan.id)) return image;
  }
  const fallback = defaultImageFor(plan.id);
  if (!fallback) throw new AppError("internal", `The catalog has no default image for ${plan.id}.`);
  return fallback;
}

async function throwIfFailed(ctx: DomainContext, userId: string, sessionId: string): Promise<void> {
  const session = await ownedSession(ctx, userId, sessionId);
  if (session.state !== "failed") return;
  const code = session.failureCode && Object.hasOwn(ERROR_CODES, session.failureCode) ? (session.failureCode as ErrorCode) : "internal";
  await commandEvent(ctx, userId, "connect", session.id);
  throw new AppError(code, "Another connect of yours was starting this session, and it failed.");
}

interface Claim {
  session: Session;
  host: GpuHost;
  /** This connect made the workspace: a failure deletes it again, so nothing half-made stays. */
  workspaceCreated: boolean;
}

/**
 * Inserts the `starting` session (and the workspace on first use) in one batch with the command
 * log row. Null when another connect's insert won (the unique indexes say so).
 */
async function claimSession(ctx: DomainContext, userId: string, plan: Plan, image: WorkspaceImage): Promise<Claim | null> {
  const found = await currentWorkspace(ctx, userId);
  // Cold storage: an archive in progress is cancelled, a cold workspace is restored first.
  const workspace = found && found.state !== "hot" ? await hotWorkspaceForConnect(ctx, found, plan) : found;
  let host: GpuHost;
  if (workspace?.hostId) {
    // A hot workspace lives on one host: the session runs there (moving it is cold storage's job).
    host = await findHost(ctx, workspace.hostId);
    if (!(await hostHasRoom(ctx, host, plan))) throw noCapacity();
  } else {
    host = await placeWorkspace(ctx, plan);
  }
  const now = ctx.clock.now();
  const workspaceId = workspace?.id ?? newId();
  const session: Session = {
    id: newId(),
    userId,
    workspaceId,
    hostId: host.id,
    planId: plan.id,
    image: image.name,
    state: "starting",
    createdAt: now,
    startedAt: null,
    endedAt: null,
    durationMs: null,
    containerId: null,
    gpuType: plan.gpuType,
    gpuCount: plan.gpuCount,
    gpuIds: null,
    cpus: plan.cpus,
    memoryMb: plan.memoryMb,
    pidsLimit: plan.pidsLimit,
    ports: [],
    failureCode: null,
  };
  const statements: BatchItem<"sqlite">[] = [];
  if (!workspace) statements.push(ctx.db.insert(workspaces).values({ id: workspaceId, userId, hostId: host.id, state: "hot", createdAt: now, lastUsedAt: now }));
  statements.push(
    ctx.db.insert(sessions).values(session),
    ctx.db
      .update(workspaces)
      .set({ lastUsedAt: now })
      .where(and(eq(workspaces.id, workspaceId), eq(workspaces.userId, userId), eq(workspaces.state, "hot"))),
    commandEvent(ctx, userId, "connect", session.id),
  );
  try {
    await ctx.db.batch(statements as Batch);
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
  // A destroy may have marked the workspace between our read and our insert (it refuses once a
  // session is starting, so one of the two always sees the other).
  const after = await currentWorkspace(ctx, userId);
  // The archive job may have claimed it too (idle until our insert): an archive still uploading yields.
  const archiveCancelled = after?.id === workspaceId && after.state === "archiving" && (await cancelArchive(ctx, userId, workspaceId));
  if (!archiveCancelled && (after?.id !== workspaceId || after.state !== "hot")) {
    await markFailed(ctx, session, "workspace_busy");
    throw workspaceBusy(after?.state ?? "deleted");
  }
  return { session, host, workspaceCreated: !workspace };
}

/** Asks the host for the container; on any failure the session is failed and what was made is removed. */
async function startSession(ctx: DomainContext, claim: Claim): Promise<Session> {
  const { session } = claim;
  const client = (await ctx.provisioner(claim.host));
  try {
    const container = await createContainer(ctx, client, session);
    if (container.state !== "running") throw new AppError("internal", "The session's container stopped as soon as it started.");
    const [[running]] = await ctx.db.batch([
      ctx.db
        .update(sessions)
        .set({ state: "running", startedAt: ctx.clock.now(), containerId: container.containerId, gpuIds: container.gpus })
        .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "starting")))
        .returning(),
      // The host key as the workspace holds it now: what `ozekai ssh-config` pins (null: no SSH in this image).
      ctx.db
        .update(workspaces)
        .set({ sshHostKey: container.sshHostKey ?? null })
        .where(and(eq(workspaces.id, session.workspaceId), eq(workspaces.userId, session.userId))),
    ]);
    // Taken over as stale meanwhile (this connect was slower than STARTING_STALE_MS): not ours to run.
    if (!running) throw new AppError("session_busy", "Starting your session took too long; connect again.");
    return running;
  } catch (error) {
    await failStart(ctx, client, claim, error instanceof AppError ? error.code : "internal");
    throw error;
  }
}

/**
 * Creates the container. When the host says another session's container still mounts the
 * workspace — left by a connect that died or a cleanup the host missed — and that session is no
 * longer live, the leftover is removed and the create tried once more.
 */
async function createContainer(ctx: DomainContext, client: ProvisionerClient, session: Session) {
  // The catalog's reference, never a string from the request; the host runs only those it allows.
  const image = findImage(session.image)!;
  // The account's keys of this moment: a key removed since the last session is not installed (sshd
  // reads only these). An image without sshd skips the host's SSH step (an exec) altogether.
  const keys = image.ssh ? await ctx.db.select({ publicKey: sshKeys.publicKey }).from(sshKeys).where(eq(sshKeys.userId, session.userId)) : null;
  const input = { sessionId: session.id, workspaceId: session.workspaceId, tenantId: session.userId, image: image.reference, plan: findPlan(session.planId)!, authorizedKeys: keys?.map((k) => k.publicKey) ?? null };
  try {
    return await client.createContainer(input);
  } catch (error) {
    if (!(error instanceof AppError && error.code === "workspace_busy")) throw error;
    const leftovers = (await client.listContainers()).filter((c) => c.workspaceId === session.workspaceId && c.sessionId !== session.id);
    const live = leftovers.length
      ? await ctx.db
          .select({ id: sessions.id })
          .from(sessions)
          .where(and(eq(sessions.userId, session.userId), inArray(sessions.id, leftovers.map((c) => c.sessionId)), inArray(sessions.state, LIVE_SESSION_STATES)))
      : [];
    const removable = leftovers.filter((c) => !live.some((l) => l.id === c.sessionId));
    if (removable.length === 0) throw error;
    for (const leftover of removable) await client.removeContainer(leftover.sessionId);
    return await client.createContainer(input);
  }
}

async function markFailed(ctx: DomainContext, session: Session, failureCode: string, extra: Batch | [] = []) {
  await ctx.db.batch([
    ctx.db
      .update(sessions)
      .set({ state: "failed", endedAt: ctx.clock.now(), durationMs: 0, failureCode })
      .where(and(eq(sessions.id, session.id), eq(sessions.userId, session.userId), eq(sessions.state, "starting"))),
    ...extra,
  ]);
}

/**
 * Nothing half-made stays reachable: the session is failed (never billed: it never ran), a
 * workspace this connect created is deleted, and the host is asked to remove what it may have
 * made. If the host is down, the reconcile job removes the leftovers (their session is not live).
 */
async function failStart(ctx: DomainContext, client: ProvisionerClient, claim: Claim, failureCode: string): Promise<void> {
  const { session } = claim;
  const deleteWorkspace: Batch | [] = claim.workspaceCreated
    ? [
        ctx.db
          .update(workspaces)
          .set({ state: "deleted", deletedAt: ctx.clock.now() })
          .where(and(eq(workspaces.id, session.workspaceId), eq(workspaces.userId, session.userId), eq(workspaces.state, "hot"))),
      ]
    : [];
  await markFailed(ctx, session, failureCode, deleteWorkspace);
  ctx.waitUntil(
    (async () => {
      await client.removeContainer(session.id);
      if (claim.workspaceCreated) await client.deleteWorkspace(session.workspaceId);
    })().catch(() => undefined), // logged by the adapter; reconcile retries
  );
}

/**
 * A `starting` session whose connect died: failed, and its container (if the host made one)
 * removed now, since the next container mounts the same workspace.
 */
export async function abandonStart(ctx: DomainContext, session: Session): Promise<void> {
  await markFailed(ctx, session, "connect_interrupted");
  await (await ctx.provisioner(session.hostId)).removeContainer(session.id);
}
