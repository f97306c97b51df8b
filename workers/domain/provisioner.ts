/**
 * The provisioner adapter: the Worker's only way to a GPU host (ARCHITECTURE "Worker ↔ provisioner").
 * Every request carries a fresh EdDSA JWT bound to its method and path (aud ozekai-provisioner,
 * ≤ 60 s), goes only to a host of the registry, and fails as a problem the user can act on: a host
 * that is down, slow or failing is `provisioner_unavailable` (503, Retry-After), never a hang.
 */
import { SignJWT } from "jose";
import { z } from "zod";
import { type ProvisionerConfig, provisionerBaseUrl } from "./config";
import type { DomainContext } from "./context";
import { AppError } from "./errors";
import { logError } from "./logs";
import type { Plan } from "./plans";
import { newId } from "./tokens";

/** Must match provisioner/src/auth.ts. */
export const PROVISIONER_AUDIENCE = "ozekai-provisioner";
export const PROVISIONER_ISSUER = "ozekai-api";
/** Short: a token only has to survive one request (the provisioner refuses more than 60 s). */
const TOKEN_LIFETIME_S = 30;

export const PROVISIONER_RETRY_AFTER_S = 30;
const NO_CAPACITY_RETRY_AFTER_S = 60;

export interface HostTarget {
  id: string;
  baseUrl: string;
}

export const ContainerSchema = z.object({
  sessionId: z.string(),
  workspaceId: z.string(),
  containerId: z.string(),
  /** Docker's state: created, running, exited, … */
  state: z.string(),
  gpus: z.array(z.string()),
});
export type Container = z.infer<typeof ContainerSchema>;

export interface CreateContainerInput {
  sessionId: string;
  workspaceId: string;
  /** The user: the provisioner gives each tenant its own network. */
  tenantId: string;
  plan: Plan;
}

export const unavailable = () =>
  new AppError("provisioner_unavailable", "The GPU host did not answer. Nothing was left running; try again shortly.", {
    headers: { "Retry-After": String(PROVISIONER_RETRY_AFTER_S) },
  });

interface Reply {
  status: number;
  /** The provisioner's problem code on a failure. */
  code: string | undefined;
  body: unknown;
}

export interface ProvisionerClient {
  readonly host: HostTarget;
  createContainer(input: CreateContainerInput): Promise<Container>;
  /** Null when the host has no container for the session. */
  getContainer(sessionId: string): Promise<Container | null>;
  listContainers(): Promise<Container[]>;
  /** Stops then removes the session's container; the workspace volume stays. Gone already is fine. */
  removeContainer(sessionId: string): Promise<void>;
  /** Bytes used; null when the host cannot tell, or has no such workspace. */
  workspaceSize(workspaceId: string): Promise<number | null>;
  /** Deletes the volume; gone already is fine. */
  deleteWorkspace(workspaceId: string): Promise<void>;
}

/** A client for one registered host. */
export function provisionerClient(ctx: DomainContext, settings: ProvisionerConfig, host: HostTarget): ProvisionerClient {
  // Docker create + start takes longest, then a stop with its 10 s grace period; the rest is quick.
  const timeouts = { create: settings.timeoutMs, stop: settings.timeoutMs / 2, default: settings.timeoutMs / 4 };
  // Outbound calls only go to a registry host with an acceptable address (checked again here:
  // the row could have been written by hand).
  const baseUrl = provisionerBaseUrl(host.baseUrl);

  const fault = (what: string, code: string, message: string) => {
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "provisioner", code, message: `${host.id} ${what}: ${message}`, userId: userIdOf(ctx) });
  };

  async function request(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<Reply> {
    const what = `${method} ${path}`;
    if (!baseUrl) {
      fault(what, "provisioner_host_invalid", "the registered base URL is not an https origin (or http on loopback)");
      throw new AppError("not_configured", "A GPU host is registered with an address the Worker may not call.");
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await sign(settings, method, path)}`,
      "X-Request-Id": ctx.requestId,
    };
    if (settings.access) {
      headers["CF-Access-Client-Id"] = settings.access.clientId;
      headers["CF-Access-Client-Secret"] = settings.access.clientSecret;
    }
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs ?? timeouts.default),
      });
    } catch (error) {
      // Refused, reset, DNS, TLS, or the timeout above: the host is unreachable or too slow.
      fault(what, "provisioner_unreachable", error instanceof Error ? error.name : "unknown");
      throw unavailable();
    }
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
  }

  /** A failure the Worker caused: a key the host does not trust (misconfiguration), or a bad request (a bug). */
  const unexpected = (what: string, reply: Reply) => {
    fault(what, `provisioner_${reply.status}`, reply.code ?? "no problem code");
    if (reply.status === 401) return new AppError("not_configured", "The GPU host does not trust this service's key.");
    return new AppError("internal", "The GPU host refused the request.");
  };

  const container = (what: string, reply: Reply): Container => {
    const parsed = ContainerSchema.safeParse(reply.body);
    if (!parsed.success) {
      fault(what, "provisioner_bad_reply", "the container description did not match");
      throw unavailable();
    }
    return parsed.data;
  };

  return {
    host,

    async createContainer(input) {
      const path = "/v1/containers";
      const reply = await request("POST", path, {
        timeoutMs: timeouts.create,
        body: {
          sessionId: input.sessionId,
          workspaceId: input.workspaceId,
          tenantId: input.tenantId,
          image: settings.workspaceImage,
          plan: {
            gpuCount: input.plan.gpuCount,
            ...(input.plan.gpuType ? { gpuType: input.plan.gpuType } : {}),
            cpus: input.plan.cpus,
            memoryMb: input.plan.memoryMb,
            pidsLimit: input.plan.pidsLimit,
          },
          start: true,
        },
      });
      if (reply.status === 200 || reply.status === 201) return container(`POST ${path}`, reply);
      if (reply.code === "gpus_unavailable") {
        throw new AppError("no_capacity", "Every GPU of your plan on your workspace's host is in use; try again shortly.", {
          headers: { "Retry-After": String(NO_CAPACITY_RETRY_AFTER_S) },
        });
      }
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "Your workspace is in use by a transfer or another container; try again shortly.");
      throw unexpected(`POST ${path}`, reply);
    },

    async getContainer(sessionId) {
      const path = `/v1/containers/${pathId(sessionId)}`;
      const reply = await request("GET", path);
      if (reply.status === 404) return null;
      if (reply.status !== 200) throw unexpected(`GET ${path}`, reply);
      return container(`GET ${path}`, reply);
    },

    async listContainers() {
      const path = "/v1/containers";
      const reply = await request("GET", path);
      if (reply.status !== 200) throw unexpected(`GET ${path}`, reply);
      const parsed = z.object({ containers: z.array(ContainerSchema) }).safeParse(reply.body);
      if (!parsed.success) {
        fault(`GET ${path}`, "provisioner_bad_reply", "the container list did not match");
        throw unavailable();
      }
      return parsed.data.containers;
    },

    async removeContainer(sessionId) {
      // Stop first: processes get Docker's grace period to flush what they write to /workspace.
      const stopPath = `/v1/containers/${pathId(sessionId)}/stop`;
      const stopped = await request("POST", stopPath, { timeoutMs: timeouts.stop });
      if (stopped.status !== 200 && stopped.status !== 404) throw unexpected(`POST ${stopPath}`, stopped);
      const path = `/v1/containers/${pathId(sessionId)}`;
      const removed = await request("DELETE", path);
      if (removed.status !== 204 && removed.status !== 404) throw unexpected(`DELETE ${path}`, removed);
    },

    async workspaceSize(workspaceId) {
      const path = `/v1/workspaces/${pathId(workspaceId)}`;
      const reply = await request("GET", path);
      if (reply.status === 404) return null;
      if (reply.status !== 200) throw unexpected(`GET ${path}`, reply);
      const parsed = z.object({ sizeBytes: z.number().int().nonnegative().nullable() }).safeParse(reply.body);
      return parsed.success ? parsed.data.sizeBytes : null;
    },

    async deleteWorkspace(workspaceId) {
      const path = `/v1/workspaces/${pathId(workspaceId)}`;
      const reply = await request("DELETE", path);
      if (reply.status === 204 || reply.status === 404) return;
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "Your workspace is in use by a transfer; try again shortly.");
      throw unexpected(`DELETE ${path}`, reply);
    },
  };
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

/** Ids are ours (UUIDs), so they need no escaping; anything else is a bug, not a path to send. */
function pathId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new AppError("internal", "An id is not fit for a provisioner path.");
  return id;
}

function problemCode(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("code" in body)) return undefined;
  return typeof body.code === "string" ? body.code.slice(0, 64) : undefined;
}

const userIdOf = (ctx: DomainContext) => (ctx.actor.kind === "user" || ctx.actor.kind === "admin" ? ctx.actor.userId : undefined);
