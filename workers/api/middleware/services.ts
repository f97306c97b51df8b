import { createMiddleware } from "hono/factory";
import { createDomainContext } from "../../context";
import type { HonoEnv } from "../types";

/** Builds the request-scoped domain context once; the actor is anonymous until `requireUser` signs the request in. */
export const servicesMiddleware = createMiddleware<HonoEnv>(async (c, next) => {
  const executionCtx = c.executionCtx;
  c.set("domain", await createDomainContext(c.env, { actor: { kind: "anonymous" }, requestId: c.get("requestId"), waitUntil: (promise) => executionCtx.waitUntil(promise) }));
  await next();
});
