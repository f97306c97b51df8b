import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { dockerStatus, ERROR_CODES, type ErrorCode, isDockerUnreachable, ProvisionerError } from "../errors.ts";
import type { HonoEnv } from "./types.ts";

export const PROBLEM_TYPE_BASE = "https://ozekai.dev/problems/provisioner/";

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code: ErrorCode;
  requestId: string;
  errors?: { field: string; message: string }[];
};

export function problemBody(error: ProvisionerError, requestId: string, fields?: Problem["errors"]): Problem {
  const { title, status } = ERROR_CODES[error.code];
  return {
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title,
    status,
    ...(error.detail ? { detail: error.detail } : {}),
    code: error.code,
    requestId,
    ...(fields ? { errors: fields } : {}),
  };
}

export function problemResponse(c: Context<HonoEnv>, error: ProvisionerError, fields?: Problem["errors"]): Response {
  const body = problemBody(error, c.get("requestId"), fields);
  const response = c.json(body, body.status as ContentfulStatusCode);
  response.headers.set("Content-Type", "application/problem+json");
  return response;
}

/**
 * One line per unexpected failure, without Docker's message: it can name files in a workspace,
 * and the provisioner keeps nothing of a workspace's content, names included (policy §3).
 */
export function logUnexpected(requestId: string, error: unknown): void {
  const status = dockerStatus(error);
  const name = error instanceof Error ? error.name : typeof error;
  const message = status === undefined && error instanceof Error ? error.message : undefined;
  console.error(JSON.stringify({ level: "error", requestId, error: name, dockerStatus: status, message }));
}

/** Maps anything thrown to a problem; unexpected errors are logged and never shown. */
export function onError(error: Error, c: Context<HonoEnv>): Response {
  if (error instanceof ProvisionerError) {
    // A full workspace is its tenant's doing, not a fault of the host.
    if (error.status >= 500 && error.code !== "workspace_full") logUnexpected(c.get("requestId"), error.cause ?? error);
    return problemResponse(c, error);
  }
  if (isDockerUnreachable(error)) return problemResponse(c, new ProvisionerError("docker_unavailable"));
  logUnexpected(c.get("requestId"), error);
  return problemResponse(c, new ProvisionerError("internal", `Quote request id ${c.get("requestId")}.`));
}
