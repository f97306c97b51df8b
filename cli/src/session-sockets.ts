/**
 * The session's WebSockets (`/v1/sessions/{id}/shell`, `/exec`, `/ports/{port}`), opened with the
 * `ws` package: unlike Node's built-in WebSocket it hands over a refused upgrade's HTTP answer (the
 * API's problem, its detail and request id, become the documented exit code) and it can send pings,
 * which is how a connection dropped without a close is noticed (docs/decisions/0027-cli-session-sockets.md).
 */
import WebSocket from "ws";
import { CliError, problemError, toCliError } from "./errors.ts";
import { type Session, unwrap } from "./session.ts";

/** The close codes of the session sockets (the API's `SESSION_SOCKET_CLOSE`, its OpenAPI descriptions). */
export const SOCKET_CLOSE = {
  normal: 1000,
  /** Sent by `ws` itself when no close frame came: the connection dropped, or the keepalive gave up on it. */
  dropped: 1006,
  hostFailed: 1011,
  protocolError: 4400,
  signInEnded: 4401,
  lifetimeReached: 4408,
  upstreamFailed: 4502,
} as const;

/** The live states: a user has at most one session in them. */
const LIVE = new Set(["starting", "running", "stopping"]);

/** The session a command works on: the one named, else the live one. */
export async function resolveSessionId(session: Session, named: string | undefined): Promise<string> {
  await session.requireSignIn();
  if (named) return named;
  const { sessions } = unwrap(await session.client.api.GET("/v1/sessions", { params: { query: { limit: 20 } } }));
  const live = sessions.find((s) => LIVE.has(s.state));
  if (!live) throw new CliError("not_found", "You have no live session: start one with `ozekai connect`.");
  return live.id;
}

/** A refused upgrade's body, read up to a bound (a problem is small; anything else is not one). */
function readProblem(res: import("node:http").IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let body = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > 64 * 1024) res.destroy();
    });
    const done = () => {
      try {
        resolve(JSON.parse(body));
      } catch {
        resolve(undefined);
      }
    };
    res.on("end", done);
    res.on("close", done);
    res.on("error", done);
  });
}

/** How long an upgrade may take to be answered, unless the caller has less time. */
const HANDSHAKE_TIMEOUT_MS = 20_000;

function connect(url: URL, token: string, apiUrl: string, handshakeTimeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // The token travels only in the Authorization header, never in the URL (access logs keep URLs).
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, handshakeTimeout: handshakeTimeoutMs, maxPayload: 16 * 1024 * 1024 });
    // An error is always followed by 'close', which is what the callers act on.
    ws.on("error", (error) => reject(toCliError(error, apiUrl)));
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_request, res) => {
      void readProblem(res).then((problem) => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") headers.set(name, value);
        reject(problemError(new Response(null, { status: res.statusCode ?? 502, headers }), problem));
        ws.terminate();
      });
    });
  });
}

/**
 * Opens `/v1/sessions/{id}/{target}` signed in. The client refreshes tokens only for its own
 * requests: an upgrade refused as expired makes one request through it (which refreshes under
 * the profile's lock), then tries once more with the new token.
 */
export async function openSessionSocket(session: Session, sessionId: string, target: string, handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS): Promise<WebSocket> {
  const url = new URL(`/v1/sessions/${encodeURIComponent(sessionId)}/${target}`, session.apiUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const attempt = async () => {
    const token = await session.accessToken();
    if (!token) throw new CliError("not_signed_in", `Not signed in to ${session.apiUrl}. Sign in with \`ozekai login\` (or set OZEKAI_TOKEN).`);
    return connect(url, token, session.apiUrl, handshakeTimeoutMs);
  };
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof CliError && error.extra.status === 401 && error.extra.code === "unauthorized")) throw error;
    unwrap(await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } } }));
    return attempt();
  }
}

/** How often a quiet socket is pinged, and how long without a word from the other side makes it dead. */
export const KEEPALIVE = { pingEveryMs: 5_000, deadAfterMs: 20_000 } as const;

/**
 * Pings the socket; one that answers nothing (no pong, no message) for `deadAfterMs` is
 * terminated, so that its 'close' (1006) fires: a dropped network sends no close frame, and
 * TCP alone would wait for many minutes.
 */
export function keepAlive(ws: WebSocket): void {
  let lastHeard = Date.now();
  const heard = () => {
    lastHeard = Date.now();
  };
  ws.on("pong", heard);
  ws.on("message", heard);
  const timer = setInterval(() => {
    if (Date.now() - lastHeard > KEEPALIVE.deadAfterMs) return ws.terminate();
    ws.ping();
  }, KEEPALIVE.pingEveryMs);
  ws.once("close", () => clearInterval(timer));
}

/** What a close code says to a person (the reason the server gave, when it gave one). */
export function closeMessage(code: number, reason: string): string {
  if (code === SOCKET_CLOSE.signInEnded) return "Your sign-in has ended (logout, a password change or a deletion). Sign in again with `ozekai login`.";
  if (code === SOCKET_CLOSE.lifetimeReached) return "The connection reached its maximum lifetime.";
  if (code === SOCKET_CLOSE.dropped) return "The connection dropped.";
  if (code === SOCKET_CLOSE.hostFailed) return `The session's host failed${reason ? ` (${reason})` : ""}.`;
  return `The connection closed (${code}${reason ? `: ${reason}` : ""}).`;
}

/** The CliError for a socket that closed before its work was done. */
export function closeError(code: number, reason: string): CliError {
  const message = closeMessage(code, reason);
  if (code === SOCKET_CLOSE.signInEnded) return new CliError("not_signed_in", message);
  if (code === SOCKET_CLOSE.protocolError) return new CliError("usage", message);
  if (code === SOCKET_CLOSE.dropped || code === SOCKET_CLOSE.lifetimeReached || code === SOCKET_CLOSE.hostFailed) return new CliError("unavailable", `${message} Try again.`);
  return new CliError("error", message);
}
