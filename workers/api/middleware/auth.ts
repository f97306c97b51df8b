import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { authenticate } from "../../domain/accounts";
import { AppError } from "../../domain/errors";
import type { HonoEnv } from "../types";

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i; // RFC 9110: the scheme is case-insensitive

const noToken = () => new AppError("unauthorized", "Send an access token: Authorization: Bearer <token>.", { headers: { "WWW-Authenticate": 'Bearer realm="ozekai"' } });

/** Every protected route: a valid access token of a live sign-in; the actor becomes that user. */
export const requireUser = createMiddleware<HonoEnv>(async (c, next) => {
  const match = BEARER.exec(c.req.header("Authorization") ?? "");
  if (!match) throw noToken();
  await signIn(c, match[1]!);
  await next();
});

/** A WebSocket subprotocol that carries the access token: browsers cannot set Authorization on a WebSocket. */
export const WEBSOCKET_TOKEN_PREFIX = "bearer.";

/**
 * WebSocket routes: the token from Authorization (CLI) or, for browsers, from the
 * `Sec-WebSocket-Protocol` entry `bearer.<token>` — never from the query string, which is logged
 * by proxies. Checked before any upgrade.
 */
export const requireUserOrWebSocketToken = createMiddleware<HonoEnv>(async (c, next) => {
  const authorization = c.req.header("Authorization");
  let token: string | undefined;
  if (authorization !== undefined) token = BEARER.exec(authorization)?.[1];
  else {
    const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
    token = offered.find((p) => p.startsWith(WEBSOCKET_TOKEN_PREFIX))?.slice(WEBSOCKET_TOKEN_PREFIX.length);
  }
  if (!token || !/^[A-Za-z0-9._~+/-]+=*$/.test(token)) throw noToken();
  await signIn(c, token);
  await next();
});

async function signIn(c: Context<HonoEnv>, token: string): Promise<void> {
  const domain = c.get("domain");
  try {
    const principal = await authenticate(domain, token);
    c.set("principal", principal);
    domain.actor = { kind: principal.user.role === "admin" ? "admin" : "user", userId: principal.user.id };
  } catch (error) {
    if (error instanceof AppError && error.code === "unauthorized") {
      throw new AppError("unauthorized", error.detail, { headers: { "WWW-Authenticate": 'Bearer realm="ozekai", error="invalid_token"' } });
    }
    throw error;
  }
}

export const principalOf = (c: { get(key: "principal"): HonoEnv["Variables"]["principal"] }) => {
  const principal = c.get("principal");
  if (!principal) throw new AppError("unauthorized");
  return principal;
};
