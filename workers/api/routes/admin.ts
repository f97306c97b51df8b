import { createRoute, z } from "@hono/zod-openapi";
import { getPlanGrant, setPlanGrant } from "../../domain/accounts";
import { PLANS } from "../../domain/plans";
import { aggregateStats, STATS_MAX_DAYS, STATS_PERIODS, UTILIZATION_BINS } from "../../domain/privacy";
import { newApp } from "../app";
import { requireUser } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";

/**
 * Operator routes. Signed in like every protected route; the domain refuses anyone but an admin
 * with 403 `forbidden` (not a hiding 404: these routes are in the public OpenAPI document anyway,
 * and the check comes before the account is looked up, so it tells nothing about which exist).
 */
const adminRoute = { tags: ["admin"], security: bearerAuth, middleware: requireUser };

const UserIdParams = z.object({ userId: z.string().min(1).max(64).openapi({ param: { name: "userId", in: "path" } }) });

const PlanGrantSchema = z
  .object({
    userId: z.string(),
    planId: z.string().nullable().openapi({ description: "The plan an admin granted; null when none (a subscription may still entitle the account)" }),
  })
  .openapi("PlanGrant");

const getRoute = createRoute({
  ...adminRoute,
  method: "get",
  path: "/users/{userId}/plan",
  summary: "Admins: the plan granted to an account",
  request: { params: UserIdParams },
  responses: { 200: jsonResponse(PlanGrantSchema, "The grant"), ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_found") },
});

const putRoute = createRoute({
  ...adminRoute,
  method: "put",
  path: "/users/{userId}/plan",
  summary: "Admins: grant an account a plan without a subscription (operators, comp accounts), or revoke it with null; audited",
  request: {
    params: UserIdParams,
    body: jsonBody(
      z.strictObject({
        planId: z
          .enum(PLANS.map((p) => p.id) as [string, ...string[]])
          .nullable()
          .openapi({ description: "A plan id from GET /v1/plans; null revokes the grant" }),
      }),
    ),
  },
  responses: { 200: jsonResponse(PlanGrantSchema, "The grant as it now is (unchanged when it already was)"), ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_found") },
});

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "YYYY-MM-DD");

const SuppressedSchema = z.object({ suppressed: z.literal(true) });

const StatsSchema = z
  .object({
    period: z.enum(STATS_PERIODS),
    from: z.string(),
    to: z.string(),
    minUsers: z.number().int().openapi({ description: "k: a bucket or plan-mix cell drawn from fewer distinct users is suppressed (no numbers)" }),
    buckets: z.array(
      z.union([
        SuppressedSchema.extend({ start: z.string() }),
        z.object({
          start: z.string().openapi({ description: "The day, or the Monday of the ISO week (UTC)" }),
          suppressed: z.literal(false),
          sessions: z.number().int(),
          gpuHours: z.number().nullable().openapi({ description: "GPUs × hours of the sessions that started in the bucket (a running one up to now); null when fewer than k users had GPU sessions" }),
          utilization: z.object(Object.fromEntries(UTILIZATION_BINS.map((bin) => [bin, z.number().int()]))).nullable().openapi({ description: "Per-minute usage samples of those sessions by mean GPU utilization, in percent bins" }),
          planMix: z.array(z.union([SuppressedSchema.extend({ planId: z.string() }), z.object({ planId: z.string(), suppressed: z.literal(false), sessions: z.number().int() })])),
        }),
      ]),
    ),
  })
  .openapi("Stats");

const statsRoute = createRoute({
  ...adminRoute,
  method: "get",
  path: "/stats",
  summary: "Admins: aggregate usage per day or week (policy §2): no user appears, small buckets are suppressed, objectors are left out",
  request: {
    query: z.object({
      period: z.enum(STATS_PERIODS).default("day"),
      from: isoDate.openapi({ description: "First day, inclusive (UTC); a Monday for weeks" }),
      to: isoDate.openapi({ description: `Last day, inclusive (UTC); at most ${STATS_MAX_DAYS} days in all; a Sunday for weeks` }),
    }),
  },
  responses: { 200: jsonResponse(StatsSchema, "The buckets that have sessions, oldest first"), ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_configured") },
});

export const adminRoutes = newApp()
  .openapi(getRoute, async (c) => c.json(await getPlanGrant(c.get("domain"), c.req.valid("param").userId), 200))
  .openapi(putRoute, async (c) => c.json(await setPlanGrant(c.get("domain"), c.req.valid("param").userId, c.req.valid("json").planId), 200))
  .openapi(statsRoute, async (c) => c.json(await aggregateStats(c.get("domain"), c.req.valid("query")), 200));
