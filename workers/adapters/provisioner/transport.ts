/**
 * One signed request to one registered host. Every request carries a fresh EdDSA JWT for that host
 * (`aud` = its registry id), bound to its method, path, query and body, used once, ≤ 60 s
 * (contract/provisioner-token.ts); it goes only to a host of the registry, and fails as a problem
 * the user can act on: a host that is down, slow or failing is `provisioner_unavailable` (503,
 * Retry-After), never a hang.
 */
import type { z } from "zod";
import type { HostErrorCode } from "../../../contract/provisioner";
import { ARCHIVE_SHA256_HEADER, signProvisionerRequest } from "../../../contract/provisioner-token";
import { type ProvisionerConfig, serviceOrigin } from "../../domain/config";
import { AppError } from "../../domain/errors";
import type { Log } from "../log";

export interface HostTarget {
  /** The registry id: the audience of its tokens, which the host checks against its PROVISIONER_HOST_ID. */
  id: string;
  baseUrl: string;
}

/**
 * A streamed request body of exactly `length` bytes (a FixedLengthStream's, so fetch sends
 * Content-Length); `sha256`, when the host checks the stream against one, goes out as
 * X-Archive-Sha256. Its token binds both, since the bytes cannot be hashed before they are sent.
 */
export interface Upload {
  stream: ReadableStream<Uint8Array>;
  length: number;
  sha256?: string;
}

export interface Reply {
  status: number;
  /** The provisioner's problem code on a failure. */
  code: HostErrorCode | undefined;
  body: unknown;
}

export const unavailable = () => new AppError("provisioner_unavailable", "The GPU host did not answer. Nothing was left running; try again shortly.");

export interface Transport {
  readonly host: HostTarget;
  /** Docker create + start takes longest, then a stop with its 10 s grace period; the rest is quick. */
  readonly timeouts: { create: number; stop: number; default: number };
  /**
   * Sends one request and returns the host's response with its body unread (streams pass
   * through). `timeoutMs` bounds the wait for the response head only, never a body in flight.
   */
  send(method: string, path: string, init?: { headers?: Record<string, string>; body?: string | Upload; timeoutMs?: number | null; signal?: AbortSignal }): Promise<Response>;
  /** A JSON request and its JSON (or problem) answer. */
  request(method: string, path: string, options?: { body?: unknown; timeoutMs?: number }): Promise<Reply>;
  /** Reads a JSON (or problem) answer; a 5xx or a redirect is the host being unavailable. */
  readReply(what: string, response: Response): Promise<Reply>;
  /** The body as `schema` says, or the host is unavailable (a reply we cannot read is logged). */
  parse<T extends z.ZodType>(what: string, schema: T, body: unknown): z.infer<T>;
  /** A failure the Worker caused: a key, host id or image the host does not accept (misconfiguration), or a bad request (a bug). */
  unexpected(what: string, reply: Reply): AppError;
  /** Logs a fault of this host (its id, the request, a code; never a body or a file name). */
  fault(what: string, code: string, message: string): void;
}

/** Ids are ours (UUIDs), so they need no escaping; anything else is a bug, not a path to send. */
export function pathId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new AppError("internal", "An id is not fit for a provisioner path.");
  return id;
}

/**
 * A request as the error log may hold it (policy §3): workspace file names and query strings are
 * the tenant's, so only the route's shape is kept; ids are ours.
 */
export const routeOf = (request: string) =>
  request
    .replace(/\?\S*/, "")
    .replace(/\/files\/\S*/, "/files/{path}")
    .replace(/\/tree\/\S*/, "/tree/{path}")
    .replace(/\/unpack\/\S*/, "/unpack/{path}");

function problemCode(body: unknown): HostErrorCode | undefined {
  if (typeof body !== "object" || body === null || !("code" in body)) return undefined;
  return typeof body.code === "string" ? (body.code.slice(0, 64) as HostErrorCode) : undefined;
}

export function transport(settings: ProvisionerConfig, host: HostTarget, log: Log, requestId: string): Transport {
  const timeouts = { create: settings.timeoutMs, stop: settings.timeoutMs / 2, default: settings.timeoutMs / 4 };
  // Outbound calls only go to a registry host with an acceptable address (checked again here:
  // the row could have been written by hand).
  const baseUrl = serviceOrigin(host.baseUrl);

  const fault = (what: string, code: string, message: string) => log.error({ source: "provisioner", code, message: `${host.id} ${routeOf(what)}: ${message}` });

  /** The signed headers of one request to `path` (with its query) carrying `body`. */
  async function signedHeaders(method: string, path: string, body: string | Upload | undefined): Promise<Record<string, string>> {
    if (!baseUrl) {
      fault(`${method} ${path}`, "provisioner_host_invalid", "the registered base URL is not an https origin (or http on loopback)");
      throw new AppError("not_configured", "A GPU host is registered with an address the Worker may not call.");
    }
    const upload = typeof body === "object" ? body : undefined;
    // The signer's wall-clock time, not ctx.clock: the host checks the token against its own
    // clock, and a test or a cron job that moves the domain's clock must still be able to reach it.
    const token = await signProvisionerRequest(settings.signingKey, {
      hostId: host.id,
      method,
      target: path,
      body: upload ? { length: upload.length, sha256: upload.sha256 } : body,
    });
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, "X-Request-Id": requestId };
    if (upload?.sha256) headers[ARCHIVE_SHA256_HEADER] = upload.sha256;
    if (settings.access) {
      headers["CF-Access-Client-Id"] = settings.access.clientId;
      headers["CF-Access-Client-Secret"] = settings.access.clientSecret;
    }
    return headers;
  }

  const self: Transport = {
    host,
    timeouts,
    fault,

    async send(method, path, init = {}) {
      const headers = { ...init.headers, ...(await signedHeaders(method, path, init.body)) };
      const body = typeof init.body === "object" ? init.body.stream : init.body;
      const abort = new AbortController();
      init.signal?.addEventListener("abort", () => abort.abort(init.signal?.reason), { once: true });
      const timeoutMs = init.timeoutMs === undefined ? timeouts.default : init.timeoutMs;
      const timer = timeoutMs === null ? undefined : setTimeout(() => abort.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
      try {
        return await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: "manual", signal: abort.signal });
      } catch (error) {
        // Refused, reset, DNS, TLS, or the timeout above: the host is unreachable or too slow.
        fault(`${method} ${path}`, "provisioner_unreachable", error instanceof Error ? error.name : "unknown");
        throw unavailable();
      } finally {
        clearTimeout(timer);
      }
    },

    async request(method, path, options = {}) {
      const response = await self.send(method, path, {
        headers: options.body === undefined ? {} : { "Content-Type": "application/json" },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        timeoutMs: options.timeoutMs,
      });
      return self.readReply(`${method} ${path}`, response);
    },

    async readReply(what, response) {
      const text = await response.text().catch(() => "");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const code = response.ok ? undefined : problemCode(body);
      if (response.status >= 500 || (response.status >= 300 && response.status < 400)) {
        // 5xx: the host or its Docker failed; a redirect: something between us and it (an Access login page).
        fault(what, `provisioner_${response.status}`, code ?? "no problem code");
        throw unavailable();
      }
      return { status: response.status, code, body };
    },

    parse(what, schema, body) {
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        fault(what, "provisioner_bad_reply", "the answer did not match the contract");
        throw unavailable();
      }
      return parsed.data;
    },

    unexpected(what, reply) {
      fault(what, `provisioner_${reply.status}`, reply.code ?? "no problem code");
      if (reply.status === 401) return new AppError("not_configured", "The GPU host does not trust this service's key.");
      return new AppError("internal", "The GPU host refused the request.");
    },
  };
  return self;
}
