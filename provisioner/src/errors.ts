/**
 * One error class and one code → status table for the whole provisioner. Every failure the Worker
 * can see is one of these codes (the contract's table); anything else becomes `internal` with no message shown.
 */
import { HOST_ERROR_CODES } from "../../contract/provisioner.ts";

export const ERROR_CODES = HOST_ERROR_CODES;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ProvisionerError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERROR_CODES[code].title, options);
    this.name = "ProvisionerError";
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** The HTTP status of an error from the Docker Engine API (dockerode puts it on `statusCode`). */
export function dockerStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number") {
    return error.statusCode;
  }
  return undefined;
}

/** True when the Docker socket itself could not be reached (daemon down, socket missing). */
export function isDockerUnreachable(error: unknown): boolean {
  const code = typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
  return code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES" || code === "ECONNRESET";
}
