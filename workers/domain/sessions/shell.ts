/** The shell of a running session: the host's WebSocket, bridged to the client by the shell route. */
import type { DomainContext } from "../context";
import { AppError } from "../errors";
import { ownedSession } from "./views";

/** The shell of one of the user's running sessions: the host's WebSocket, not yet accepted. */
export async function openSessionShell(ctx: DomainContext, userId: string, sessionId: string): Promise<WebSocket> {
  const session = await ownedSession(ctx, userId, sessionId);
  if (session.state !== "running") throw new AppError("not_connected", "This session is not running; connect to get a shell.");
  return (await ctx.provisioner(session.hostId)).openShell(session.id);
}
