/**
 * The session sockets — the shell, an exec, a port forward: WebSockets the Worker bridges to the
 * host's own, frame for frame, and keeps tied to the sign-in that opened them.
 */
import type { Context } from "hono";
import { SOCKET_CLOSE } from "../../contract/provisioner";
import { liveSignIn, type Principal } from "../domain/accounts";
import type { DomainContext } from "../domain/context";
import { AppError } from "../domain/errors";
import { principalOf, WEBSOCKET_TOKEN_PREFIX } from "./middleware/auth";
import type { HonoEnv } from "./types";

/** The subprotocol a browser offers (with `bearer.<token>`) and the Worker selects. */
export const SESSION_SOCKET_SUBPROTOCOL = "ozekai.v1";

/**
 * Close codes a client of a session socket sees: the Worker's own (the sign-in ended, the socket
 * lived its longest: reconnect with a fresh token) and the host's, passed on as they are.
 */
export const SESSION_SOCKET_CLOSE = { signInEnded: 4401, lifetimeReached: 4408, ...SOCKET_CLOSE } as const;

/** What every session socket's OpenAPI description says about signing in and closing. */
export const SESSION_SOCKET_RULES =
  `Send the access token as \`Authorization: Bearer\`, or from a browser as the subprotocols \`["${SESSION_SOCKET_SUBPROTOCOL}", "${WEBSOCKET_TOKEN_PREFIX}<token>"]\` (never in the URL). ` +
  `The Worker closes the socket with code ${SESSION_SOCKET_CLOSE.signInEnded} when the sign-in behind it ends (logout, password change, deletion) and with ${SESSION_SOCKET_CLOSE.lifetimeReached} when it reaches its maximum lifetime (SHELL_MAX_LIFETIME_SECONDS, 12 h by default): reconnect with a fresh access token.`;

/** Refuses a plain request to a socket route before anything is looked up. */
export function requireUpgrade(c: Context<HonoEnv>): void {
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("upgrade_required", "Open this URL as a WebSocket.", { headers: { Upgrade: "websocket" } });
  }
}

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
 * Keeps a bridged socket tied to the sign-in that opened it: a revoked sign-in (logout, password
 * change or reset, deletion) closes it within seconds, and none outlives the configured lifetime.
 * Closing the host side makes the provisioner end what the socket runs.
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
        if (!user) end(SESSION_SOCKET_CLOSE.signInEnded, "the sign-in has ended; sign in again");
      },
      () => undefined, // D1 unavailable for a moment: the next check decides
    );
  }, signInCheckMs);
  const lifetime = setTimeout(() => end(SESSION_SOCKET_CLOSE.lifetimeReached, "the socket reached its maximum lifetime; reconnect"), maxLifetimeMs);
  const stop = () => {
    clearInterval(check);
    clearTimeout(lifetime);
  };
  client.addEventListener("close", stop);
  host.addEventListener("close", stop);
}

/** The 101 answer: the client's end bridged to the host's socket, watched, with the subprotocol a browser offered. */
export function bridgeSessionSocket(c: Context<HonoEnv>, host: WebSocket): Response {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  host.accept();
  bridge(server, host);
  watch(c.get("domain"), principalOf(c), server, host);
  const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
  const headers: Record<string, string> = offered.includes(SESSION_SOCKET_SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SESSION_SOCKET_SUBPROTOCOL } : {};
  return new Response(null, { status: 101, webSocket: client, headers });
}
