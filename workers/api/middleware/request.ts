import { createMiddleware } from "hono/factory";
import { logAccess } from "../../adapters/log";
import type { HonoEnv } from "../types";

const SECURITY_HEADERS: Record<string, string> = {
  "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
  "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
};

export const clientIp = (request: Request) => request.headers.get("CF-Connecting-IP");

/** Routes whose path tail is a name in the user's workspace. */
const WORKSPACE_PATHS = ["/v1/workspace/files/", "/v1/workspace/tree/"];

/**
 * The endpoint as logged: the path, cut to 512 characters, with a workspace file's name replaced
 * by the route's placeholder — file names are the workspace's, not ours to keep (policy §3).
 */
export const loggedPath = (pathname: string) => {
  const prefix = WORKSPACE_PATHS.find((p) => pathname.startsWith(p));
  return prefix ? `${prefix}{path}` : pathname.slice(0, 512);
};

/**
 * First middleware: request id, security headers, and the access log row (policy §1 technical
 * data: IP, time, user agent, endpoint). Only the path is logged (without a workspace file's name),
 * never the query string (it could carry a token), headers or bodies.
 */
export const requestMiddleware = createMiddleware<HonoEnv>(async (c, next) => {
  const startedAt = Date.now();
  const requestId = crypto.randomUUID();
  c.set("requestId", requestId);
  await next();
  const headers = c.res.headers;
  headers.set("X-Request-Id", requestId);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!headers.has(name)) headers.set(name, value);
  // Policy §8: no HTTP cookies, whatever a library might add.
  headers.delete("Set-Cookie");
  // The deletion cleared the account's earlier lines; this one is written after it.
  const forget = c.get("accountDeleted") === true;
  logAccess(c.env.ACCESS_LOG_QUEUE, c.executionCtx, {
    at: startedAt,
    request_id: requestId,
    ip: forget ? null : clientIp(c.req.raw),
    user_agent: forget ? null : (c.req.header("User-Agent")?.slice(0, 512) ?? null),
    method: c.req.method,
    path: loggedPath(new URL(c.req.url).pathname),
    status: c.res.status,
    duration_ms: Date.now() - startedAt,
    user_id: c.get("principal")?.user.id ?? c.get("domain")?.subjectUserId ?? null,
  });
});
