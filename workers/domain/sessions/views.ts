/** What a user sees of a session, and the reads of sessions (every one filters by the owner). */
import { and, desc, eq, inArray } from "drizzle-orm";
import { z } from "@hono/zod-openapi";
import { LIVE_SESSION_STATES, type Session, SESSION_STATES, sessions } from "../../../schema";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { idleDisconnectAt } from "./idle";

export type { Session };

/** A session as the API shows it (and the OpenAPI document describes it). */
export const SessionSchema = z
  .object({
    id: z.string(),
    state: z.enum(SESSION_STATES),
    planId: z.string(),
    image: z.string().openapi({ description: "The image the container runs: a name from GET /v1/images" }),
    workspaceId: z.string(),
    createdAt: z.string().openapi({ description: "When connect was asked for" }),
    startedAt: z.string().nullable().openapi({ description: "When the container ran: billing starts here" }),
    endedAt: z.string().nullable().openapi({ description: "When you disconnected (or it failed): billing stops here" }),
    durationMs: z.number().int().nullable().openapi({ description: "Billed time, once ended" }),
    resources: z.object({
      gpuType: z.string().nullable(),
      gpuCount: z.number().int(),
      cpus: z.number(),
      memoryMb: z.number().int(),
      pidsLimit: z.number().int(),
    }),
    ports: z.array(z.object({ name: z.string().openapi({ description: "How the port was assigned: `forward`, carried by GET /v1/sessions/{id}/ports/{port}" }), port: z.number().int() })).openapi({
      description:
        "The container's ports this session has forwarded (policy §1 port assignments), each once, in the order first forwarded: a record of the session, not a list of connections open now",
    }),
    idleDisconnectAt: z.string().nullable().openapi({
      description:
        "When the idle rule (IDLE_MINUTES under the thresholds, no shell attached) disconnects this session if it stays idle until then; a time past means at the next minute. Null unless it is running and idle now",
    }),
  })
  .openapi("Session");
export type SessionView = z.infer<typeof SessionSchema>;

const toSessionView = (s: Session, idleAt: Date | null): SessionView => ({
  id: s.id,
  state: s.state,
  planId: s.planId,
  image: s.image,
  workspaceId: s.workspaceId,
  createdAt: s.createdAt.toISOString(),
  startedAt: s.startedAt?.toISOString() ?? null,
  endedAt: s.endedAt?.toISOString() ?? null,
  durationMs: s.durationMs,
  resources: { gpuType: s.gpuType, gpuCount: s.gpuCount, cpus: s.cpus, memoryMb: s.memoryMb, pidsLimit: s.pidsLimit },
  ports: s.ports,
  idleDisconnectAt: idleAt?.toISOString() ?? null,
});

/** The view of a session with its idle-disconnect time (one indexed read, only for a running session). */
export const sessionView = async (ctx: DomainContext, s: Session): Promise<SessionView> => toSessionView(s, await idleDisconnectAt(ctx, s));

// ── Reads (every one filters by the owner) ────────────────────────────────────────────────────

export const findLiveSession = (ctx: DomainContext, userId: string) =>
  ctx.db.query.sessions.findFirst({ where: and(eq(sessions.userId, userId), inArray(sessions.state, LIVE_SESSION_STATES)) });

export async function ownedSession(ctx: DomainContext, userId: string, sessionId: string): Promise<Session> {
  const session = await ctx.db.query.sessions.findFirst({ where: and(eq(sessions.id, sessionId), eq(sessions.userId, userId)) });
  if (!session) throw new AppError("not_found", "You have no session with this id.");
  return session;
}

export async function getSession(ctx: DomainContext, userId: string, sessionId: string): Promise<SessionView> {
  return sessionView(ctx, await ownedSession(ctx, userId, sessionId));
}

export async function listSessions(ctx: DomainContext, userId: string, options: { limit: number }): Promise<SessionView[]> {
  const rows = await ctx.db.query.sessions.findMany({ where: eq(sessions.userId, userId), orderBy: [desc(sessions.createdAt), desc(sessions.id)], limit: options.limit });
  return Promise.all(rows.map((row) => sessionView(ctx, row)));
}
