import { createRoute, z } from "@hono/zod-openapi";
import { PRIVACY_REQUEST_KINDS, PRIVACY_REQUEST_STATES } from "../../../schema";
import { createRequest, getOwnRequest, listOwnRequests, MESSAGE_MAX_CHARS, setObjections } from "../../domain/privacy";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";

const protectedRoute = { tags: ["privacy"], security: bearerAuth, middleware: requireUser };

export const PrivacyRequestSchema = z
  .object({
    id: z.string(),
    kind: z.enum(PRIVACY_REQUEST_KINDS),
    message: z.string().nullable(),
    state: z.enum(PRIVACY_REQUEST_STATES),
    reason: z.string().nullable().openapi({ description: "Why it was rejected" }),
    createdAt: z.string(),
    dueAt: z.string().openapi({ description: "The answer is due by then: 30 days after the request was made (policy §7)" }),
    updatedAt: z.string(),
  })
  .openapi("PrivacyRequest");

const RequestIdParams = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) });

const createRequestRoute = createRoute({
  ...protectedRoute,
  // Each request emails the caller's address: a per-account budget.
  middleware: [requireUser, limitSignedInRoute("privacy")] as const,
  method: "post",
  path: "/requests",
  summary: "Ask for a right of policy §7 (access, correction, deletion, portability, objection, other); answered within 30 days",
  request: {
    body: jsonBody(z.strictObject({ kind: z.enum(PRIVACY_REQUEST_KINDS), message: z.string().max(MESSAGE_MAX_CHARS).optional().openapi({ description: "What you ask for, in your words" }) })),
  },
  responses: { 201: jsonResponse(PrivacyRequestSchema, "The request, open"), ...errorResponses("validation_failed", "unauthorized", "rate_limited") },
});

const listRequestsRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/requests",
  summary: "Your privacy requests, newest first",
  responses: { 200: jsonResponse(z.object({ requests: z.array(PrivacyRequestSchema) }), "Requests"), ...errorResponses("unauthorized") },
});

const getRequestRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/requests/{id}",
  summary: "One of your privacy requests",
  request: { params: RequestIdParams },
  responses: { 200: jsonResponse(PrivacyRequestSchema, "The request"), ...errorResponses("validation_failed", "unauthorized", "not_found") },
});

const objectionsRoute = createRoute({
  ...protectedRoute,
  middleware: [requireUser, limitSignedInRoute("privacy")] as const,
  method: "put",
  path: "/objections",
  summary: "Object to processing (policy §7): aggregate analysis stops at once; any other objection opens a request an administrator decides",
  request: {
    body: jsonBody(
      z.strictObject({
        aggregateAnalysis: z.boolean().openapi({ description: "true: leave out your usage from aggregate, anonymized operator statistics (policy §2)" }),
        other: z.string().max(MESSAGE_MAX_CHARS).optional().openapi({ description: "Any other processing you object to; opens a privacy request of kind objection" }),
      }),
    ),
  },
  responses: {
    200: jsonResponse(
      z.object({
        aggregateAnalysisObjectedAt: z.string().nullable(),
        changes: z.array(z.string()).openapi({ description: "What this call changed, in words; empty when nothing did" }),
        request: z.union([PrivacyRequestSchema, z.null()]),
      }),
      "What changed",
    ),
    ...errorResponses("validation_failed", "unauthorized", "rate_limited"),
  },
});

export const privacyRoutes = newApp()
  .openapi(createRequestRoute, async (c) => c.json(await createRequest(c.get("domain"), principalOf(c).user.id, c.req.valid("json")), 201))
  .openapi(listRequestsRoute, async (c) => c.json({ requests: await listOwnRequests(c.get("domain"), principalOf(c).user.id) }, 200))
  .openapi(getRequestRoute, async (c) => c.json(await getOwnRequest(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id), 200))
  .openapi(objectionsRoute, async (c) => c.json(await setObjections(c.get("domain"), principalOf(c).user.id, c.req.valid("json")), 200));
