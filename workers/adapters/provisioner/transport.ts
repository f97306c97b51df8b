/**
 * One signed request to one registered host. Every request carries a fresh EdDSA JWT bound to its
 * method and path (audience and issuer from the contract, ≤ 60 s), goes only to a host of the
 * registry, and fails as a problem the user can act on: a host that is down, slow or failing is
 * `provisioner_unavailable` (503, Retry-After), never a hang.
 */
import { SignJWT } from "jose";
import type { z } from "zod";
import { type HostErrorCode, PROVISIONER_AUDIENCE, PROVISIONER_ISSUER } from "../../../contract/provisioner";
import { type ProvisionerConfig, serviceOrigin } from "../../domain/config";
import { newId } from "../../domain/db";
import { AppError } from "../../domain/errors";
import type { Log } from "../log";

/** Short: a token only has to survive one request (the provisioner refuses more than 60 s). */
const TOKEN_LIFETIME_S = 30;

export interface HostTarget {
  id: string;
  baseUrl: string;
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
  send(method: string, path: string, init?: { headers?: Record<string, string>; body?: BodyInit; timeoutMs?: number | null; signal?: AbortSignal }): Promise<Response>;
  /** A JSON request and its JSON (or problem) answer. */
  request(method: string, path: string, options?: { body?: unknown; timeoutMs?: number }): Promise<Reply>;
  /** Reads a JSON (or problem) answer; a 5xx or a redirect is the host being unavailable. */
  readReply(what: string, response: Response): Promise<Reply>;
  /** The body as `schema` says, or the host is unavailable (a reply we cannot read is logged). */
  parse<T extends z.ZodType>(what: string, schema: T, body: unknown): z.infer<T>;
  /** A failure the Worker caused: a key the host does not trust (misconfiguration), or a bad request (a bug). */
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
export const routeOf = (request: string) => request.replace(/\?\S*/, "").replace(/\/files\/\S*/, "/files/{path}");

function problemCode(body: unknown): HostErrorCode | undefined {
  if (typeof body !== "object" || body === null || !("code" in body)) return undefined;
  return typeof body.code === "string" ? (body.code.slice(0, 64) as HostErrorCode) : undefined;
}

/** The token for one request: bound to the method and the exact path the provisioner will see. */
async function sign(settings: ProvisionerConfig, method: string, path: string): Promise<string> {
  // Wall-clock time, not ctx.clock: the host checks the token against its own clock, and a test
  // or a cron job that moves the domain's clock must still be able to reach it.
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ htm: method.toUpperCase(), htu: path })
    .setProtectedHeader({ alg: "EdDSA", typ: "JWT", ...(settings.signingKey.kid ? { kid: settings.signingKey.kid } : {}) })
    .setIssuer(PROVISIONER_ISSUER)
    .setAudience(PROVISIONER_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_LIFETIME_S)
    .setJti(newId())
    .sign(settings.signingKey.privateKey);
}

export function transport(settings: ProvisionerConfig, host: HostTarget, log: Log, requestId: string): Transport {
  const timeouts = { create: settings.timeoutMs, stop: settings.timeoutMs / 2, default: settings.timeoutMs / 4 };
  // Outbound calls only go to a registry host with an acceptable address (checked again here:
  // the row could have been written by hand).
  const baseUrl = serviceOrigin(host.baseUrl);

  const fault = (what: string, code: string, message: string) => log.error({ source: "provisioner", code, message: `${host.id} ${routeOf(what)}: ${message}` });

  /** The signed headers of one request (its token is bound to `method` and `path`, query excluded). */
  async function signedHeaders(method: string, path: string): Promise<Record<string, string>> {
    if (!baseUrl) {
      fault(`${method} ${path}`, "provisioner_host_invalid", "the registered base URL is not an https origin (or http on loopback)");
      throw new AppError("not_configured", "A GPU host is registered with an address the Worker may not call.");
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await sign(settings, method, path.split("?")[0]!)}`,
      "X-Request-Id": requestId,
    };
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
      const headers = { ...(await signedHeaders(method, path)), ...init.headers };
      const abort = new AbortController();
      init.signal?.addEventListener("abort", () => abort.abort(init.signal?.reason), { once: true });
      const timeoutMs = init.timeoutMs === undefined ? timeouts.default : init.timeoutMs;
      const timer = timeoutMs === null ? undefined : setTimeout(() => abort.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
      try {
        return await fetch(`${baseUrl}${path}`, { method, headers, body: init.body, redirect: "manual", signal: abort.signal });
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
