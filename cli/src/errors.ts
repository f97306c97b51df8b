/**
 * The one place where a failure becomes an exit code and a message: problems from the API (by
 * their code, else their HTTP status), network failures, usage errors and the CLI's own errors.
 */
import type { Problem } from "@ozekai/client";

/** The documented exit codes (cli/README.md). */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  not_signed_in: 3,
  not_found: 4,
  conflict: 5,
  unavailable: 6,
} as const;

export type ExitKind = keyof typeof EXIT;

/** A failure the CLI reports: what kind (its exit code), a message, and what the API said. */
export interface CliErrorExtra {
  status?: number;
  code?: string;
  requestId?: string;
  fields?: { field: string; message: string }[];
  /** What the command found before it failed (doctor's checks), in the --json document. */
  data?: unknown;
}

export class CliError extends Error {
  readonly kind: Exclude<ExitKind, "ok">;
  readonly extra: CliErrorExtra;
  constructor(kind: Exclude<ExitKind, "ok">, message: string, extra: CliErrorExtra = {}) {
    super(message);
    this.name = "CliError";
    this.kind = kind;
    this.extra = extra;
  }
}

/** The exit kind of an API problem: its code first (some share a status), then its status. */
function kindOfProblem(status: number, code: string | undefined): Exclude<ExitKind, "ok"> {
  if (code === "validation_failed" || code === "ssh_key_unsupported") return "usage"; // the values given (arguments, prompts, a key file) are not valid
  if (code === "rate_limited") return "unavailable";
  if (status === 401) return "not_signed_in";
  if (status === 404) return "not_found";
  if (status === 409 || status === 423) return "conflict";
  if (status === 429 || status === 502 || status === 503 || status === 504) return "unavailable";
  return "error";
}

/** A non-2xx answer from the API as a CliError: the problem's detail (or title) and its request id. */
export function problemError(response: Response, problem: unknown): CliError {
  const p = (typeof problem === "object" && problem !== null ? problem : {}) as Partial<Problem>;
  const kind = kindOfProblem(response.status, p.code);
  const requestId = p.requestId ?? response.headers.get("X-Request-Id") ?? undefined;
  let message = p.detail ?? p.title ?? `The API answered HTTP ${response.status}.`;
  if (kind === "not_signed_in" && p.code === "unauthorized") message += " Sign in with `ozekai login`.";
  const retryAfter = response.headers.get("Retry-After");
  if (kind === "unavailable" && retryAfter) message += ` Try again in ${retryAfter} s.`;
  return new CliError(kind, message, { status: response.status, code: p.code, requestId, fields: p.errors });
}

const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);

/** The code of a fetch failure's cause (undici wraps it: TypeError "fetch failed" → cause). */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return "timed out";
    const code = "code" in e ? String(e.code) : undefined;
    if (code && (NETWORK_CODES.has(code) || code.startsWith("UND_ERR_"))) return code;
  }
  return undefined;
}

/** Anything thrown by a command, as the CliError to report; `apiUrl` names what could not be reached. */
export function toCliError(error: unknown, apiUrl: string | undefined): CliError {
  if (error instanceof CliError) return error;
  const network = networkCode(error);
  const where = apiUrl ?? "its address";
  if (network) return new CliError("unavailable", `Cannot reach the Ozekai API at ${where} (${network}). Check the address and your connection, then try again.`);
  // fetch refused the request itself (say, a port browsers never use): the address is wrong, retrying will not help.
  if (error instanceof TypeError && error.message === "fetch failed") {
    const reason = error.cause instanceof Error ? error.cause.message : "no reason given";
    return new CliError("error", `Cannot reach the Ozekai API at ${where} (${reason}). Check the address.`);
  }
  // Never a stack trace: the message only.
  return new CliError("error", error instanceof Error ? error.message : String(error));
}
