/**
 * The sockets into a running session: its shell, an exec, a port forward. Each is the host's
 * WebSocket, not yet accepted, which the API bridges to the client.
 */
import { and, eq, or, sql } from "drizzle-orm";
import { type Session, sessions } from "../../../schema";
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { ownedSession } from "./views";

/**
 * The most different ports one session records as forwarded (policy §1 "port assignments"): the
 * record stays a small row, whatever a client tries.
 */
export const MAX_FORWARDED_PORTS = 32;

/** What a forward is recorded as in the session's `ports`. */
export const FORWARD_PORT_NAME = "forward";

async function runningSession(ctx: DomainContext, userId: string, sessionId: string): Promise<Session> {
  const session = await ownedSession(ctx, userId, sessionId);
  if (session.state !== "running") throw new AppError("not_connected", "This session is not running; connect first.");
  return session;
}

/** The shell of one of the user's running sessions. */
export async function openSessionShell(ctx: DomainContext, userId: string, sessionId: string): Promise<WebSocket> {
  const session = await runningSession(ctx, userId, sessionId);
  return (await ctx.provisioner(session.hostId)).openShell(session.id);
}

/** An exec in one of the user's running sessions; the command travels in the socket's first frame, never through D1 or a log. */
export async function openSessionExec(ctx: DomainContext, userId: string, sessionId: string): Promise<WebSocket> {
  const session = await runningSession(ctx, userId, sessionId);
  return (await ctx.provisioner(session.hostId)).openExec(session.id);
}

/**
 * One TCP connection to `port` of one of the user's running sessions. The port joins the session's
 * record of forwarded ports once the host has connected to it (docs/decisions/0023-port-forwarding.md).
 */
export async function openSessionPort(ctx: DomainContext, userId: string, sessionId: string, port: number): Promise<WebSocket> {
  const session = await runningSession(ctx, userId, sessionId);
  const known = session.ports.some((p) => p.port === port);
  if (!known && session.ports.length >= MAX_FORWARDED_PORTS) throw tooManyPorts();
  const host = await (await ctx.provisioner(session.hostId)).openPort(session.id, port);
  if (known) return host;
  try {
    await recordForwardedPort(ctx, userId, sessionId, port);
    return host;
  } catch (error) {
    host.accept();
    host.close(1011, "not recorded");
    throw error;
  }
}

const tooManyPorts = () => new AppError("too_many_ports", `A session forwards at most ${MAX_FORWARDED_PORTS} different ports.`);

/**
 * Adds `port` to the session's record in one conditional write: concurrent forwards neither lose
 * an entry nor pass the bound, and a session that stopped meanwhile records nothing.
 */
async function recordForwardedPort(ctx: DomainContext, userId: string, sessionId: string, port: number): Promise<void> {
  const recorded = sql`exists (select 1 from json_each(${sessions.ports}) where json_extract(value, '$.port') = ${port})`;
  const entry = JSON.stringify({ name: FORWARD_PORT_NAME, port });
  const result = await ctx.db
    .update(sessions)
    .set({ ports: sql`case when ${recorded} then ${sessions.ports} else json_insert(${sessions.ports}, '$[#]', json(${entry})) end` })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), eq(sessions.state, "running"), or(recorded, sql`json_array_length(${sessions.ports}) < ${MAX_FORWARDED_PORTS}`)));
  if (result.meta.changes > 0) return;
  const now = await runningSession(ctx, userId, sessionId);
  if (!now.ports.some((p) => p.port === port)) throw tooManyPorts();
}
