import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { createLog, errorNames } from "../adapters/log";
import { AppError, ERROR_CODES, type ErrorCode } from "../domain/errors";
import type { HonoEnv } from "./types";

export const PROBLEM_TYPE_BASE = "https://ozekai.dev/problems/";

/** RFC 9457 problem details, with our stable `code` and the request id. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: `${PROBLEM_TYPE_BASE}validation_failed` }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export function problemResponse(c: Context<HonoEnv>, error: AppError): Response {
  const entry: { title: string; status: number; retryAfterS?: number } = ERROR_CODES[error.code];
  const { title, status } = entry;
  const body = {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title,
    status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    requestId: c.get("requestId"),
    ...(error.extra.fields ? { errors: error.extra.fields } : {}),
  };
  const response = c.json(body, status as ContentfulStatusCode, error.extra.headers);
  if (entry.retryAfterS !== undefined && !response.headers.has("Retry-After")) response.headers.set("Retry-After", String(entry.retryAfterS));
  response.headers.set("Content-Type", "application/problem+json");
  return response;
}

/** The request's log, also when its domain context could not be built (a configuration fault). */
const requestLog = (c: Context<HonoEnv>) => createLog(c.env.DB, c.executionCtx, c.get("requestId"));

/** Maps anything thrown to a problem; unexpected errors are logged and never shown (no stack, no message). */
export function onError(error: Error, c: Context<HonoEnv>): Response {
  if (error instanceof AppError) {
    if (error.status >= 500) requestLog(c).error({ source: "request", code: error.code, message: error.message, userId: null });
    return problemResponse(c, error);
  }
  if (error instanceof HTTPException) {
    const code: ErrorCode =
      error.status === 413
        ? "payload_too_large"
        : error.status === 415
          ? "unsupported_media_type"
          : error.status === 400 && /json/i.test(error.message)
            ? "malformed_json"
            : error.status === 400
              ? "validation_failed"
              : "internal";
    if (code !== "internal") return problemResponse(c, new AppError(code));
  }
  // The route's template and the error's name and code only: a failed query's message holds its
  // parameters (an email, a username), and a concrete path can hold a workspace file name.
  requestLog(c).error({ source: "request", code: error.name || "Error", message: `${c.req.method} ${c.req.routePath}: ${errorNames(error)}`, userId: c.get("principal")?.user.id ?? null });
  return problemResponse(c, new AppError("internal", `Quote request id ${c.get("requestId")} when contacting support.`));
}

/** OpenAPI `responses` entries for the given codes, from the same table the runtime uses. */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...codes, "rate_limited", "internal"] as ErrorCode[]) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...new Set([...(byStatus.get(status) ?? []), code])]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      { description: list.map((code) => `\`${code}\`: ${ERROR_CODES[code].title}`).join("; "), content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );
}
