import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { AppError } from "../../domain/errors";
import type { HonoEnv } from "../types";

export const MAX_JSON_BODY_BYTES = 64 * 1024;

/** 413 past the limit, streamed or not. */
export const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new AppError("payload_too_large", `Request bodies are limited to ${MAX_JSON_BODY_BYTES} bytes.`);
  },
});

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** A request that carries a body must say it is JSON (415 otherwise). */
export const requireJsonBody = createMiddleware<HonoEnv>(async (c, next) => {
  // Not every request states its length (HTTP/2, chunked, requests built in-process): look at the body.
  const hasBody = c.req.raw.body !== null && c.req.header("Content-Length") !== "0";
  if (hasBody && !["GET", "HEAD", "OPTIONS"].includes(c.req.method) && !JSON_TYPE.test(c.req.header("Content-Type") ?? "")) {
    throw new AppError("unsupported_media_type", "Send the body as application/json.");
  }
  await next();
});

/** File uploads (one file, or a tar of many) are raw bytes of any size (a per-request limit applies in the domain); every other body is JSON. */
export const isFileUpload = (c: { req: { method: string; path: string } }) =>
  c.req.method === "PUT" && (c.req.path.startsWith("/v1/workspace/files/") || c.req.path === "/v1/workspace/archive");

/** The JSON body checks, for every /v1 route but file uploads. */
export const jsonBodyChecks = createMiddleware<HonoEnv>(async (c, next) => {
  if (isFileUpload(c)) return next();
  await jsonBodyLimit(c, async () => {
    await requireJsonBody(c, next);
  });
});
