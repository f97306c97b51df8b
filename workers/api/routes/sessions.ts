import { createRoute, z } from "@hono/zod-openapi";
import { connect, disconnect, getSession, listSessions } from "../../domain/sessions";
import { METRICS_PAGE, parseSince, sessionMetrics } from "../../domain/usage";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonResponse, SessionSchema } from "../schemas";

const protectedRoute = { tags: ["sessions"], security: bearerAuth, middleware: requireUser };

const SessionIdParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

/** Connect's faults: refused entitlements, a busy state, and a host that is down or full (503 with Retry-After). */
const HOST_FAULTS = ["provisioner_unavailable", "no_capacity", "not_configured"] as const;

const connectRoute = createRoute({
  ...protectedRoute,
  middleware: [requireUser, limitSignedInRoute("connect")] as const,
  method: "post",
  path: "/",
  summary: "Connect: start your GPU session, or get the live one you have (idempotent: never two)",
  description:
    "Needs a verified email and a plan. A workspace is created on first use and kept between sessions. The body is optional: `image` names one of GET /v1/images that the plan may run (absent: the plan's default).",
  request: {
    body: {
      required: false,
      content: {
        "application/json": {
          schema: z
            .object({ image: z.string().min(1).max(64).optional().openapi({ description: "An image's name from GET /v1/images", example: "base" }) })
            .openapi("ConnectRequest"),
        },
      },
    },
  },
  responses: {
    201: jsonResponse(SessionSchema, "Started: the container is running"),
    200: jsonResponse(SessionSchema, "Your session was already running"),
    202: jsonResponse(SessionSchema, "Another connect is still starting it: poll GET /v1/sessions/{id}"),
    ...errorResponses(
      "validation_failed",
      "unauthorized",
      "email_unverified",
      "usage_limit_reached",
      "no_plan",
      "subscription_past_due",
      "subscription_canceled",
      "unknown_image",
      "image_not_in_plan",
      "session_image_differs",
      "session_busy",
      "workspace_busy",
      "cold_storage_unavailable",
      "image_unavailable",
      ...HOST_FAULTS,
    ),
  },
});

const listRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/",
  summary: "Your sessions, newest first",
  request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: {
    200: jsonResponse(z.object({ sessions: z.array(SessionSchema) }), "Sessions"),
    ...errorResponses("validation_failed", "unauthorized"),
  },
});

const getRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/{id}",
  summary: "One of your sessions",
  request: { params: SessionIdParams },
  responses: { 200: jsonResponse(SessionSchema, "The session"), ...errorResponses("validation_failed", "unauthorized", "not_found") },
});

const disconnectRoute = createRoute({
  ...protectedRoute,
  method: "post",
  path: "/{id}/disconnect",
  summary: "Disconnect: stop the container and keep the workspace; billing time stops now",
  request: { params: SessionIdParams },
  responses: {
    200: jsonResponse(SessionSchema, "Ended (idempotent: an ended session is returned as it is)"),
    ...errorResponses("validation_failed", "unauthorized", "not_found", "session_busy", ...HOST_FAULTS),
  },
});

const nullable = (description: string) => z.number().nullable().openapi({ description: `${description}; null when the host could not read it` });

const MetricsSeriesSchema = z
  .object({
    sessionId: z.string(),
    state: z.string().openapi({ description: "The session's state now: a poll can stop once it is ended" }),
    samples: z.array(
      z.object({
        at: z.string().openapi({ description: "The minute it was sampled, ISO 8601" }),
        gpuCount: z.number().int().openapi({ description: "GPUs the container held (0 on a CPU plan)" }),
        gpuUtilizationPercent: nullable("Mean utilization of the session's GPUs, 0–100"),
        gpuUtilizationMaxPercent: nullable("The busiest GPU's utilization, 0–100"),
        gpuMemoryUsedMb: nullable("VRAM used, summed over the session's GPUs"),
        gpuMemoryTotalMb: nullable("VRAM installed, summed over the session's GPUs"),
        gpus: z
          .array(z.object({ utilizationPercent: nullable("This GPU's utilization, 0–100"), memoryUsedMb: nullable("This GPU's VRAM used"), memoryTotalMb: nullable("This GPU's VRAM installed") }))
          .nullable()
          .openapi({ description: "Each GPU of the session, in order; null for samples taken before per-GPU figures were kept" }),
        cpuPercent: nullable("CPU, 100 = one core busy"),
        memoryUsedBytes: nullable("Memory used by the container"),
        shellsAttached: z.number().int(),
      }),
    ),
    truncated: z.boolean().openapi({ description: "More samples exist than this page holds: with since, after `next`; without, before the first" }),
    next: z.string().nullable().openapi({ description: "Poll again with since=next" }),
  })
  .openapi("SessionMetrics");

const metricsRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/{id}/metrics",
  summary: "Your session's per-minute usage samples (GPU utilization and VRAM, CPU, memory), oldest first; poll with since",
  description: `Without \`since\`: the latest \`limit\` samples. With \`since\` (ISO 8601 or milliseconds since the epoch): the samples after it, oldest first, up to \`limit\` (default ${METRICS_PAGE.default}, at most ${METRICS_PAGE.max}). Samples are taken once a minute while the session runs.`,
  request: {
    params: SessionIdParams,
    query: z.object({
      since: z.string().max(40).optional().openapi({ description: "Only samples after this time: ISO 8601, or milliseconds since the epoch" }),
      limit: z.coerce.number().int().min(1).max(METRICS_PAGE.max).default(METRICS_PAGE.default),
    }),
  },
  responses: { 200: jsonResponse(MetricsSeriesSchema, "The samples"), ...errorResponses("validation_failed", "unauthorized", "not_found") },
});

const CONNECT_STATUS = { created: 201, existing: 200, starting: 202 } as const;

export const sessionRoutes = newApp()
  .openapi(connectRoute, async (c) => {
    const { session, outcome } = await connect(c.get("domain"), principalOf(c).user.id, c.req.valid("json"));
    return c.json(session, CONNECT_STATUS[outcome]);
  })
  .openapi(listRoute, async (c) => c.json({ sessions: await listSessions(c.get("domain"), principalOf(c).user.id, c.req.valid("query")) }, 200))
  .openapi(getRoute, async (c) => c.json(await getSession(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id), 200))
  .openapi(disconnectRoute, async (c) => c.json(await disconnect(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id), 200))
  .openapi(metricsRoute, async (c) => {
    const { since, limit } = c.req.valid("query");
    return c.json(await sessionMetrics(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id, { since: parseSince(since), limit }), 200);
  });
