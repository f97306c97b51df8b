import { createRoute, z } from "@hono/zod-openapi";
import { deleteMinorAccount, getPlanGrant, setPlanGrant } from "../../domain/accounts";
import { PLANS } from "../../domain/plans";
import { aggregateStats, decideRequest, listPolicyVersions, listQueue, MESSAGE_MAX_CHARS, type PolicyVersion, publishPolicyVersion, STATS_MAX_DAYS, STATS_PERIODS, UTILIZATION_BINS } from "../../domain/privacy";
import { newApp } from "../app";
import { requireUser } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";
import { PrivacyRequestSchema } from "./privacy";

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

// --- Policy versions (policy §11): publish a new version; a material one is emailed by cron. ---

const PolicyVersionSchema = z
  .object({ version: z.string(), publishedAt: z.string(), material: z.boolean(), summary: z.string(), text: z.string(), transfer: z.string().nullable() })
  .openapi("PolicyVersion");

const policyVersionView = (v: PolicyVersion) => ({ ...v, publishedAt: v.publishedAt.toISOString() });

const listPolicyVersionsRoute = createRoute({
  ...adminRoute,
  method: "get",
  path: "/policy-versions",
  summary: "Admins: every published privacy policy version, newest first",
  responses: { 200: jsonResponse(z.object({ versions: z.array(PolicyVersionSchema) }), "The versions"), ...errorResponses("unauthorized", "forbidden") },
});

const publishPolicyVersionRoute = createRoute({
  ...adminRoute,
  method: "post",
  path: "/policy-versions",
  summary: "Admins: publish a new privacy policy version, newer than the current one; a material one is emailed to every verified address once; audited",
  request: {
    body: jsonBody(
      z.strictObject({
        version: z.iso.date().openapi({ description: 'Its "Last updated" date, YYYY-MM-DD; after the current version' }),
        material: z.boolean(),
        summary: z.string().trim().min(1).max(2000).openapi({ description: "What changed; the notice email says it" }),
        text: z.string().min(1).max(100_000),
        transfer: z
          .string()
          .trim()
          .min(1)
          .max(2000)
          .nullable()
          .default(null)
          .openapi({ description: "The merger, acquisition or sale of assets this version announces (policy §4): the notice email opens with it. Needs material: true" }),
      }),
    ),
  },
  responses: { 201: jsonResponse(PolicyVersionSchema, "Published"), ...errorResponses("validation_failed", "unauthorized", "forbidden", "policy_version_exists") },
});

// --- Minors (policy §10): an account of someone under 18 is deleted. ---

const minorRoute = createRoute({
  ...adminRoute,
  method: "post",
  path: "/users/{userId}/minor",
  summary: "Admins: the account belongs to someone under 18 (policy §10): deleted at once through the self-deletion path, audited with the reason, the address told",
  request: {
    params: UserIdParams,
    body: jsonBody(z.strictObject({ reason: z.string().trim().min(1).max(500).openapi({ description: "Why the account appears to belong to a minor; kept in the audit row" }) })),
  },
  responses: {
    202: jsonResponse(z.object({ status: z.literal("deleted") }), "Deleted; the workspace and the Stripe customer go in the background"),
    ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_found"),
  },
});

// --- Privacy requests (policy §7): the admins' queue. ---

const QueuedRequestSchema = PrivacyRequestSchema.extend({
  userId: z.string(),
  overdue: z.boolean().openapi({ description: "Past its 30-day deadline" }),
}).openapi("QueuedPrivacyRequest");

const queueRoute = createRoute({
  ...adminRoute,
  method: "get",
  path: "/privacy-requests",
  summary: "Admins: the open and in-progress privacy requests, overdue and soonest due first",
  responses: { 200: jsonResponse(z.object({ requests: z.array(QueuedRequestSchema) }), "The queue"), ...errorResponses("unauthorized", "forbidden") },
});

const RequestIdParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

const decideRoute = createRoute({
  ...adminRoute,
  method: "patch",
  path: "/privacy-requests/{id}",
  summary: "Admins: move a privacy request on (in progress, completed, or rejected with a reason); completed and rejected are final; audited, and the user is emailed",
  request: {
    params: RequestIdParams,
    body: jsonBody(
      z.strictObject({
        state: z.enum(["in_progress", "completed", "rejected"]),
        reason: z.string().max(MESSAGE_MAX_CHARS).optional().openapi({ description: "Required to reject: told to the user" }),
      }),
    ),
  },
  responses: { 200: jsonResponse(QueuedRequestSchema, "The request as it now is"), ...errorResponses("validation_failed", "unauthorized", "forbidden", "not_found", "request_closed") },
});

// --- Aggregate statistics (policy §2): the only analysis operators get. ---

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
    database: z
      .array(
        z.object({
          day: z.string().openapi({ description: "The UTC day measured" }),
          measuredAt: z.string(),
          sizeBytes: z.number().int(),
          limitBytes: z.number().int().openapi({ description: "D1's size limit (DATABASE_LIMIT_BYTES): writes fail beyond it" }),
          percent: z.number().openapi({ description: "Share of the limit in use; the admins are emailed from DATABASE_WARN_PERCENT" }),
          tables: z.array(z.object({ table: z.string(), rows: z.number().int() })).openapi({ description: "Every table's row count, largest first" }),
        }),
      )
      .openapi({ description: "The database's daily measurement for each day of the range that has one, newest first" }),
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
  .openapi(listPolicyVersionsRoute, async (c) => c.json({ versions: (await listPolicyVersions(c.get("domain"))).map(policyVersionView) }, 200))
  .openapi(publishPolicyVersionRoute, async (c) => c.json(policyVersionView(await publishPolicyVersion(c.get("domain"), c.req.valid("json"))), 201))
  .openapi(getRoute, async (c) => c.json(await getPlanGrant(c.get("domain"), c.req.valid("param").userId), 200))
  .openapi(putRoute, async (c) => c.json(await setPlanGrant(c.get("domain"), c.req.valid("param").userId, c.req.valid("json").planId), 200))
  .openapi(minorRoute, async (c) => {
    await deleteMinorAccount(c.get("domain"), c.req.valid("param").userId, c.req.valid("json").reason);
    return c.json({ status: "deleted" as const }, 202);
  })
  .openapi(queueRoute, async (c) => c.json({ requests: await listQueue(c.get("domain")) }, 200))
  .openapi(decideRoute, async (c) => c.json(await decideRequest(c.get("domain"), c.req.valid("param").id, c.req.valid("json")), 200))
  .openapi(statsRoute, async (c) => c.json(await aggregateStats(c.get("domain"), c.req.valid("query")), 200));
