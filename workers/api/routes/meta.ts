import { createRoute, z } from "@hono/zod-openapi";
import { acceptPolicy, currentPolicy, POLICY_PATH } from "../../domain/privacy";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["meta"],
  summary: "Liveness; reveals nothing about the deployment",
  responses: { 200: jsonResponse(z.object({ status: z.literal("ok") }), "Alive") },
});

export const PolicySchema = z
  .object({
    version: z.string().openapi({ description: 'The policy\'s "Last updated" date, YYYY-MM-DD; accept it at signup or with POST /v1/policy/accept' }),
    publishedAt: z.string(),
    material: z.boolean().openapi({ description: "A material change: emailed to every account with a verified address (policy §11)" }),
    summary: z.string(),
    url: z.string().openapi({ description: "Where the text is served" }),
  })
  .openapi("Policy");

const policyRoute = createRoute({
  method: "get",
  path: "/v1/policy",
  tags: ["meta"],
  summary: "The current privacy policy version, its date, what changed and where its text is",
  responses: { 200: jsonResponse(PolicySchema, "Current policy") },
});

const textRoute = createRoute({
  method: "get",
  path: POLICY_PATH,
  tags: ["meta"],
  summary: "The text of the current privacy policy, as plain text; a browser asking for HTML gets the website's privacy page, which shows it",
  responses: { 200: { description: "The policy text", content: { "text/plain": { schema: z.string() }, "text/html": { schema: z.string() } } } },
});

const acceptRoute = createRoute({
  method: "post",
  path: "/v1/policy/accept",
  tags: ["meta"],
  security: bearerAuth,
  middleware: [requireUser, limitSignedInRoute("policy-accept")] as const,
  summary: "Accept the current privacy policy version (policy §11); audited",
  request: { body: jsonBody(z.strictObject({ version: z.string().max(32).openapi({ description: "The version from GET /v1/policy" }) })) },
  responses: { 204: { description: "Recorded" }, ...errorResponses("validation_failed", "unauthorized", "rate_limited") },
});

export const metaRoutes = newApp()
  .openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200))
  .openapi(policyRoute, async (c) => {
    const p = await currentPolicy(c.get("domain"));
    return c.json({ version: p.version, publishedAt: p.publishedAt.toISOString(), material: p.material, summary: p.summary, url: POLICY_PATH }, 200);
  })
  .openapi(textRoute, async (c) => {
    // Emails and GET /v1/policy link here: people get the page with the version and their rights, programs the text.
    if (c.req.header("accept")?.includes("text/html")) {
      // A copy: the asset's headers are immutable, and every answer gets its request id.
      const page = await c.env.ASSETS.fetch(new URL("/", c.req.url).href);
      return new Response(page.body, page);
    }
    return c.text((await currentPolicy(c.get("domain"))).text, 200);
  })
  .openapi(acceptRoute, async (c) => {
    await acceptPolicy(c.get("domain"), principalOf(c).user.id, c.req.valid("json").version);
    return c.body(null, 204);
  });
