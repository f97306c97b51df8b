import { Hono, type HonoRequest } from "hono";
import type { z } from "zod";
import { ProvisionerError } from "../errors.ts";
import { ID_PATTERN } from "../../../contract/provisioner.ts";
import type { HonoEnv } from "./types.ts";

/** Every router is made here, so every route authenticates and fails the same way. */
export function newRouter() {
  return new Hono<HonoEnv>();
}

/** The request path as signed by the Worker: the URL path (percent-encoded as sent), no query. */
export const signedPath = (url: string) => new URL(url).pathname;

/** The path and the query as the request's token binds them. */
export function signedTarget(url: string): string {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
}

/**
 * Parses a JSON body with a schema; failures become `validation_failed` with the fields named.
 * Read through Hono's request, which keeps the bytes the token check already read and hashed.
 */
export async function readJson<T extends z.ZodType>(request: HonoRequest, schema: T): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    throw new ProvisionerError("validation_failed", "the body is not valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`);
    throw new ProvisionerError("validation_failed", fields.join("; "));
  }
  return parsed.data;
}

/** Route parameters that are ids: checked before they reach a Docker name or label filter. */
export function idParam(value: string | undefined): string {
  if (!value || !ID_PATTERN.test(value)) throw new ProvisionerError("validation_failed", "invalid id");
  return value;
}
