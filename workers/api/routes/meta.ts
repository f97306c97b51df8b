import { createRoute, z } from "@hono/zod-openapi";
import { CURRENT_POLICY_VERSION } from "../../domain/privacy";
import { newApp } from "../app";
import { jsonResponse } from "../schemas";

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["meta"],
  summary: "Liveness; reveals nothing about the deployment",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "Alive") },
});

const policyRoute = createRoute({
  method: "get",
  path: "/v1/policy",
  tags: ["meta"],
  summary: "The privacy policy version to accept at signup",
  responses: { 200: jsonResponse(z.object({ version: z.string(), url: z.string() }), "Current policy") },
});

export const metaRoutes = newApp()
  .openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200))
  .openapi(policyRoute, (c) => c.json({ version: CURRENT_POLICY_VERSION, url: "/privacy" }, 200));
