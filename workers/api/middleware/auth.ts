import { createMiddleware } from "hono/factory";
import { authenticate } from "../../domain/auth";
import { AppError } from "../../domain/errors";
import type { HonoEnv } from "../types";

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i; // RFC 9110: the scheme is case-insensitive

/** Every protected route: a valid access token of a live sign-in; the actor becomes that user. */
export const requireUser = createMiddleware<HonoEnv>(async (c, next) => {
  const match = BEARER.exec(c.req.header("Authorization") ?? "");
  if (!match) throw new AppError("unauthorized", "Send an access token: Authorization: Bearer <token>.", { headers: { "WWW-Authenticate": 'Bearer realm="ozekai"' } });
  const domain = c.get("domain");
  try {
    const principal = await authenticate(domain, match[1]!);
    c.set("principal", principal);
    c.set("domain", { ...domain, actor: { kind: principal.user.role === "admin" ? "admin" : "user", userId: principal.user.id } });
  } catch (error) {
    if (error instanceof AppError && error.code === "unauthorized") {
      throw new AppError("unauthorized", error.detail, { headers: { "WWW-Authenticate": 'Bearer realm="ozekai", error="invalid_token"' } });
    }
    throw error;
  }
  await next();
});

export const principalOf = (c: { get(key: "principal"): HonoEnv["Variables"]["principal"] }) => {
  const principal = c.get("principal");
  if (!principal) throw new AppError("unauthorized");
  return principal;
};
