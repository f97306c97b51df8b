import { createRoute, z } from "@hono/zod-openapi";
import { usageReport } from "../../domain/usage";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth, jsonResponse } from "../schemas";

/** The longest window one request may ask for. */
export const USAGE_MAX_RANGE_DAYS = 366;

const instant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .openapi({ description: "An ISO 8601 date (UTC midnight) or date-time with offset", example: "2026-11-01" });

const QuerySchema = z
  .object({ from: instant, to: instant })
  .transform((q) => ({ from: new Date(q.from), to: new Date(q.to) }))
  .superRefine((q, issue) => {
    if (!(q.from < q.to)) issue.addIssue({ code: "custom", path: ["to"], message: "`to` must be after `from`" });
    else if (q.to.getTime() - q.from.getTime() > USAGE_MAX_RANGE_DAYS * 86_400_000) issue.addIssue({ code: "custom", path: ["to"], message: `At most ${USAGE_MAX_RANGE_DAYS} days from \`from\`` });
  });

const Metrics = z.object({
  samples: z.number().int(),
  avgGpuUtilizationPercent: z.number().nullable(),
  maxGpuUtilizationPercent: z.number().nullable(),
  maxGpuMemoryUsedMb: z.number().nullable(),
});

const UsageSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    sessions: z.array(
      z.object({
        id: z.string(),
        planId: z.string(),
        gpuType: z.string().nullable(),
        gpuCount: z.number().int(),
        state: z.string(),
        startedAt: z.string(),
        endedAt: z.string().nullable(),
        seconds: z.number().int().openapi({ description: "Session time inside the window" }),
        gpuSeconds: z.number().int(),
        costCents: z.number().nullable().openapi({ description: "At the plan's price per hour; an estimate — the Stripe invoice is what is charged" }),
        metrics: Metrics,
      }),
    ),
    truncated: z.boolean(),
    totals: z.object({ seconds: z.number().int(), gpuSeconds: z.number().int(), costCents: z.number() }),
    thisMonth: z
      .object({
        month: z.string().openapi({ description: "The current UTC month, YYYY-MM" }),
        usedSeconds: z.number().int().openapi({ description: "Session time used this month so far, whatever the window" }),
        limitHours: z.number().int().nullable().openapi({ description: "The monthly limit you set (PATCH /v1/account usageLimitHours): a notice by email at 80% and 100%" }),
        limitAction: z.enum(["notify", "disconnect"]).openapi({ description: "What happens at the limit (PATCH /v1/account usageLimitAction): a notice only, or the session disconnected" }),
        sessionsRefused: z.boolean().openapi({ description: "The limit is reached and you chose disconnect: new sessions are refused until the month ends or the limit is raised or removed" }),
      })
      .openapi({ description: "This month so far against your usage limit" }),
  })
  .openapi("Usage");

const getRoute = createRoute({
  tags: ["usage"],
  security: bearerAuth,
  middleware: requireUser,
  method: "get",
  path: "/",
  summary: "Your sessions in a window: time, GPU metrics summary and cost",
  request: { query: QuerySchema },
  responses: { 200: jsonResponse(UsageSchema, "Usage"), ...errorResponses("validation_failed", "unauthorized") },
});

export const usageRoutes = newApp().openapi(getRoute, async (c) => {
  const { from, to } = c.req.valid("query");
  return c.json(await usageReport(c.get("domain"), principalOf(c).user.id, from, to), 200);
});
