import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../domain/errors";
import { liveSignIn, type Principal } from "../../domain/accounts";
import type { DomainContext } from "../../domain/context";
import { openSessionShell } from "../../domain/sessions";
import { newApp } from "../app";
import { principalOf, requireUserOrWebSocketToken, WEBSOCKET_TOKEN_PREFIX } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth } from "../schemas";

/** The subprotocol a browser offers (with `bearer.<token>`) and the Worker selects. */
export const SHELL_SUBPROTOCOL = "ozekai.v1";

/** Close codes the Worker sends a shell client: the sign-in ended, or the shell lived its longest (reconnect with a fresh token). */
export const SHELL_CLOSE = { signInEnded: 4401, lifetimeReached: 4408 } as const;

const shellRoute = createRoute({
  tags: ["sessions"],
  security: bearerAuth,
  middleware: requireUserOrWebSocketToken,
  method: "get",
  path: "/{id}/shell",
  summary: "The session's shell: a WebSocket bridged to a terminal in its container",
  description:
    `Binary frames carry the terminal's bytes both ways; a text frame \`{"type":"resize","cols":N,"rows":N}\` resizes it. ` +
    `Send the access token as \`Authorization: Bearer\`, or from a browser as the subprotocols \`["${SHELL_SUBPROTOCOL}", "${WEBSOCKET_TOKEN_PREFIX}<token>"]\` (never in the URL). ` +
    `The Worker closes the shell with code ${SHELL_CLOSE.signInEnded} when the sign-in behind it ends (logout, password change, deletion) and with ${SHELL_CLOSE.lifetimeReached} when it reaches its maximum lifetime (SHELL_MAX_LIFETIME_SECONDS, 12 h by default): reconnect with a fresh access token.`,
  request: { params: z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...errorResponses("validation_failed", "unauthorized", "not_found", "not_connected", "session_busy", "upgrade_required", "provisioner_unavailable", "not_configured"),
  },
});

/** Close codes a peer may send (1005, 1006 and 1015 only describe a close, and cannot be sent). */
const sendableCode = (code: number) => (code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ? code : 1000);

/** Messages both ways as they are (binary stays binary, text stays text); a close or error on one side closes the other. */
function bridge(client: WebSocket, host: WebSocket): void {
  const closeOther = (other: WebSocket) => (event: CloseEvent) => {
    try {
      other.close(sendableCode(event.code), event.reason.slice(0, 120));
    } catch {
      // already closed
    }
  };
  const failOther = (other: WebSocket) => () => {
    try {
      other.close(1011, "the other side failed");
    } catch {
      // already closed
    }
  };
  // Binary frames as ArrayBuffers (the standard default is Blob), passed on as binary frames.
  client.binaryType = "arraybuffer";
  host.binaryType = "arraybuffer";
  // A frame can arrive after the other side closed (its close is on the way here): it is dropped.
  const forwardTo = (other: WebSocket) => (event: MessageEvent) => {
    try {
      other.send(event.data);
    } catch {
      // already closed
    }
  };
  client.addEventListener("message", forwardTo(host));
  host.addEventListener("message", forwardTo(client));
  client.addEventListener("close", closeOther(host));
  host.addEventListener("close", closeOther(client));
  client.addEventListener("error", failOther(host));
  host.addEventListener("error", failOther(client));
}

/**
 * Keeps a bridged shell tied to the sign-in that opened it: a revoked sign-in (logout, password
 * change or reset, deletion) closes it within seconds, and no shell outlives the configured
 * lifetime. Closing the host side makes the provisioner end what the shell runs.
 */
function watch(domain: DomainContext, principal: Principal, client: WebSocket, host: WebSocket): void {
  const { maxLifetimeMs, signInCheckMs } = domain.config.shell;
  const end = (code: number, reason: string) => {
    stop();
    for (const ws of [client, host]) {
      try {
        ws.close(code, reason);
      } catch {
        // already closed
      }
    }
  };
  const check = setInterval(() => {
    liveSignIn(domain, principal.loginSessionId, principal.user.id).then(
      (user) => {
        if (!user) end(SHELL_CLOSE.signInEnded, "the sign-in has ended; sign in again");
      },
      () => undefined, // D1 unavailable for a moment: the next check decides
    );
  }, signInCheckMs);
  const lifetime = setTimeout(() => end(SHELL_CLOSE.lifetimeReached, "the shell reached its maximum lifetime; reconnect"), maxLifetimeMs);
  const stop = () => {
    clearInterval(check);
    clearTimeout(lifetime);
  };
  client.addEventListener("close", stop);
  host.addEventListener("close", stop);
}

export const shellRoutes = newApp().openapi(shellRoute, async (c) => {
  const { id } = c.req.valid("param");
  const principal = principalOf(c);
  const userId = principal.user.id;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("upgrade_required", "Open this URL as a WebSocket.", { headers: { Upgrade: "websocket" } });
  }
  const host = await openSessionShell(c.get("domain"), userId, id);
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  host.accept();
  bridge(server, host);
  watch(c.get("domain"), principal, server, host);
  const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
  const headers: Record<string, string> = offered.includes(SHELL_SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SHELL_SUBPROTOCOL } : {};
  return new Response(null, { status: 101, webSocket: client, headers }) as never;
});
