import { createMiddleware } from "hono/factory";
import { loadConfig } from "../../domain/config";
import { openDb } from "../../domain/db";
import { systemClock } from "../../domain/context";
import type { HonoEnv } from "../types";

/** Builds the request-scoped domain context once (db, config, clock, request id). */
export const servicesMiddleware = createMiddleware<HonoEnv>(async (c, next) => {
  const config = await loadConfig(c.env);
  const executionCtx = c.executionCtx;
  c.set("domain", {
    env: c.env,
    db: openDb(c.env.DB),
    config,
    clock: systemClock,
    actor: { kind: "anonymous" },
    requestId: c.get("requestId"),
    waitUntil: (promise) => executionCtx.waitUntil(promise),
  });
  await next();
});
