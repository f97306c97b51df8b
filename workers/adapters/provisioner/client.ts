/**
 * The provisioner adapter: the Worker's only way to a GPU host (ARCHITECTURE "Worker ↔ provisioner").
 * Every request carries a fresh EdDSA JWT bound to its method and path (aud ozekai-provisioner,
 * ≤ 60 s), goes only to a host of the registry, and fails as a problem the user can act on: a host
 * that is down, slow or failing is `provisioner_unavailable` (503, Retry-After), never a hang.
 */
import { SignJWT } from "jose";
import { z } from "zod";
import { type ProvisionerConfig, serviceOrigin } from "../../domain/config";
import type { DomainContext } from "../../domain/context";
import { AppError } from "../../domain/errors";
import { logError } from "../log";
import type { Plan } from "../../domain/plans";
import { newId } from "../../domain/db";

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
  /** The user the container was made for (its network); the reconcile job checks it. */
  tenantId: z.string().optional(),
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
  /** A read-only host resource (`/v1/metrics`, `/v1/inventory`): the body of a 200; the caller parses it. */
  readJson(path: string): Promise<unknown>;
  /**
   * Streams `length` bytes into a file (`path`: checked, percent-encoded segments). With `offset`,
   * the bytes are appended at that offset, which must be the file's current size.
   */
  putFile(workspaceId: string, path: string, body: ReadableStream<Uint8Array>, length: number, offset?: number): Promise<StoredFile>;
  /** The file as the host streams it (200, or 206 for a `Range`); the body is not read here. */
  getFile(workspaceId: string, path: string, range?: string): Promise<Response>;
  fileChecksum(workspaceId: string, path: string): Promise<StoredFile>;
  /** The whole workspace as a tar stream. */
  getArchive(workspaceId: string): Promise<Response>;
  /**
   * Cold storage: stages a snapshot of the workspace's tar on the host for one archive attempt
   * (`stageId`), with the SHA-256 of the whole and of each `partSize` part. `staging` while the host
   * is still writing it (ask again later). `workspace_busy` while a container mounts the workspace.
   */
  stageExport(workspaceId: string, input: { stageId: string; partSize: number }): Promise<ExportStage>;
  /** Part `n` (from 1) of the staged snapshot, streamed with its length; `not_found` when the host has no stage. */
  getExportPart(workspaceId: string, n: number): Promise<Response>;
  /** Drops the staged snapshot; none is fine. */
  deleteExport(workspaceId: string): Promise<void>;
  /**
   * Restores a workspace from a tar stream into a volume that must not exist yet. The host hashes
   * the body as it imports it: another SHA-256 than `sha256` (or a body that is not a safe tar)
   * leaves no volume and is `cold_storage_unavailable`.
   */
  putArchive(workspaceId: string, body: ReadableStream<Uint8Array>, sha256: string, signal?: AbortSignal): Promise<void>;
  /** The session container's shell, a WebSocket not yet accepted. */
  openShell(sessionId: string): Promise<WebSocket>;
}

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);

export const ExportStageSchema = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("staged"),
    stageId: z.string(),
    partSize: z.number().int().positive(),
    size: z.number().int().nonnegative(),
    sha256: Sha256Schema,
    partHashes: z.array(Sha256Schema).min(1),
  }),
  z.object({ status: z.literal("staging"), stageId: z.string(), stagedBytes: z.number().int().nonnegative() }),
]);
export type ExportStage = z.infer<typeof ExportStageSchema>;

export const StoredFileSchema = z.object({ path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type StoredFile = z.infer<typeof StoredFileSchema>;

/** What the host says about a file transfer, in the API's words (its own codes never reach users). */
const FILE_FAULTS: Record<string, () => AppError> = {
  invalid_path: () => new AppError("validation_failed", "The path is not allowed in a workspace.", { fields: [{ field: "path", message: "not allowed" }] }),
  symlink_refused: () =>
    new AppError("validation_failed", "The path is or goes through a symbolic link, which transfers never follow.", { fields: [{ field: "path", message: "symbolic link" }] }),
  file_not_found: () => new AppError("not_found", "Your workspace has no file at this path."),
  workspace_not_found: () => new AppError("not_found", "Your workspace is not on its host."),
  not_a_file: () => new AppError("not_a_file"),
  range_not_satisfiable: () => new AppError("range_not_satisfiable", "The range starts past the end of the file."),
  upload_offset_mismatch: () => new AppError("upload_offset_mismatch", "The file's size is not the offset you sent; ask for its size (HEAD) and resume from there."),
  length_required: () => new AppError("length_required"),
  validation_failed: () => new AppError("validation_failed", "The body did not match its Content-Length."),
};

/** A client for one registered host. */
export function provisionerClient(ctx: DomainContext, settings: ProvisionerConfig, host: HostTarget): ProvisionerClient {
  // Docker create + start takes longest, then a stop with its 10 s grace period; the rest is quick.
  const timeouts = { create: settings.timeoutMs, stop: settings.timeoutMs / 2, default: settings.timeoutMs / 4 };
  // Outbound calls only go to a registry host with an acceptable address (checked again here:
  // the row could have been written by hand).
  const baseUrl = serviceOrigin(host.baseUrl);

  const fault = (what: string, code: string, message: string) => {
    logError(ctx.env.DB, ctx, { requestId: ctx.requestId, source: "provisioner", code, message: `${host.id} ${what}: ${message}`, userId: userIdOf(ctx) });
  };

  /** The signed headers of one request (its token is bound to `method` and `path`, query excluded). */
  async function signedHeaders(method: string, path: string): Promise<Record<string, string>> {
    if (!baseUrl) {
      fault(`${method} ${path}`, "provisioner_host_invalid", "the registered base URL is not an https origin (or http on loopback)");
      throw new AppError("not_configured", "A GPU host is registered with an address the Worker may not call.");
    }
    const headers: Record<string, string> = {
      Authorization: `Bearer ${await sign(settings, method, path.split("?")[0]!)}`,
      "X-Request-Id": ctx.requestId,
    };
    if (settings.access) {
      headers["CF-Access-Client-Id"] = settings.access.clientId;
      headers["CF-Access-Client-Secret"] = settings.access.clientSecret;
    }
    return headers;
  }

  /**
   * Sends one request and returns the host's response with its body unread (streams pass
   * through). `timeoutMs` bounds the wait for the response head only, never a body in flight.
   */
  async function send(
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: BodyInit; timeoutMs?: number | null; signal?: AbortSignal } = {},
  ): Promise<Response> {
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
  }

  async function request(method: string, path: string, options: { body?: unknown; timeoutMs?: number } = {}): Promise<Reply> {
    const response = await send(method, path, {
      headers: options.body === undefined ? {} : { "Content-Type": "application/json" },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      timeoutMs: options.timeoutMs,
    });
    return readReply(`${method} ${path}`, response);
  }

  /** Reads a JSON (or problem) answer; a 5xx or a redirect is the host being unavailable. */
  async function readReply(what: string, response: Response): Promise<Reply> {
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

  /** A failed transfer: the host's reason in the API's words, or `unexpected`. */
  const fileFault = (what: string, failed: Reply) => FILE_FAULTS[failed.code ?? ""]?.() ?? unexpected(what, failed);

  const storedFile = (what: string, answer: Reply): StoredFile => {
    const parsed = StoredFileSchema.safeParse(answer.body);
    if (!parsed.success) {
      fault(what, "provisioner_bad_reply", "the file description did not match");
      throw unavailable();
    }
    return parsed.data;
  };

  /** A streamed answer: returned as it is on success, read as a problem otherwise. */
  async function streamed(what: string, response: Response, ok: number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    throw fileFault(what, await readReply(what, response));
  }

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

    async readJson(path) {
      const reply = await request("GET", path);
      if (reply.status !== 200) throw unexpected(`GET ${path}`, reply);
      return reply.body;
    },

    async putFile(workspaceId, path, body, length, offset) {
      const target = `/v1/workspaces/${pathId(workspaceId)}/files/${path}${offset === undefined ? "" : `?offset=${offset}`}`;
      const what = `PUT ${target.split("?")[0]}`;
      // The host needs the length before the first byte (a tar header carries the file): a fixed
      // length stream sends Content-Length, and fails if the client sends more or less.
      const fixed = new FixedLengthStream(length);
      let clientFault = false;
      const piping = body.pipeTo(fixed.writable).catch(() => {
        clientFault = true;
      });
      let response: Response;
      try {
        // No timeout: a file of many GB takes as long as the client's link does.
        response = await send("PUT", target, { headers: { "Content-Type": "application/octet-stream" }, body: fixed.readable, timeoutMs: null });
      } catch (error) {
        await Promise.race([piping, new Promise((resolve) => setTimeout(resolve, 100))]);
        if (clientFault) throw FILE_FAULTS.validation_failed!();
        throw error;
      }
      await piping;
      const answer = await readReply(what, response);
      if (answer.status === 200 || answer.status === 201) return storedFile(what, answer);
      throw fileFault(what, answer);
    },

    async getFile(workspaceId, path, range) {
      const target = `/v1/workspaces/${pathId(workspaceId)}/files/${path}`;
      const response = await send("GET", target, { headers: range ? { Range: range } : {} });
      return streamed(`GET ${target}`, response, [200, 206]);
    },

    async fileChecksum(workspaceId, path) {
      const target = `/v1/workspaces/${pathId(workspaceId)}/checksums/${path}`;
      // Hashing reads the whole file on the host: as long as a create may take.
      const answer = await request("GET", target, { timeoutMs: timeouts.create });
      if (answer.status === 200) return storedFile(`GET ${target}`, answer);
      throw fileFault(`GET ${target}`, answer);
    },

    async getArchive(workspaceId) {
      const target = `/v1/workspaces/${pathId(workspaceId)}/archive`;
      return streamed(`GET ${target}`, await send("GET", target), [200]);
    },

    async stageExport(workspaceId, input) {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports`;
      // The host answers within about 10 s (202 while it is still staging): as long as a create may take.
      const reply = await request("POST", path, { body: input, timeoutMs: timeouts.create });
      if (reply.status === 200 || reply.status === 202) {
        const parsed = ExportStageSchema.safeParse(reply.body);
        if (parsed.success) return parsed.data;
        fault(`POST ${path}`, "provisioner_bad_reply", "the export stage did not match");
        throw unavailable();
      }
      if (reply.code === "workspace_in_use") throw new AppError("workspace_busy", "The workspace is in use by a container or a transfer.");
      if (reply.code === "workspace_not_found") throw new AppError("not_found", "The workspace is not on its host.");
      throw unexpected(`POST ${path}`, reply);
    },

    async getExportPart(workspaceId, n) {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports/parts/${n}`;
      const response = await send("GET", path);
      if (response.status === 200) return response;
      const reply = await readReply(`GET ${path}`, response);
      if (reply.code === "export_not_found") throw new AppError("not_found", "The host has no staged export of the workspace.");
      throw unexpected(`GET ${path}`, reply);
    },

    async deleteExport(workspaceId) {
      const path = `/v1/workspaces/${pathId(workspaceId)}/exports`;
      const reply = await request("DELETE", path);
      if (reply.status !== 204) throw unexpected(`DELETE ${path}`, reply);
    },

    async putArchive(workspaceId, body, sha256, signal) {
      const path = `/v1/workspaces/${pathId(workspaceId)}/archive`;
      // No timeout: a restore takes as long as the workspace is large.
      const response = await send("PUT", path, { headers: { "Content-Type": "application/x-tar", "X-Archive-Sha256": sha256 }, body, timeoutMs: null, signal });
      const reply = await readReply(`PUT ${path}`, response);
      if (reply.status === 200) return;
      if (reply.code === "archive_checksum_mismatch" || reply.code === "unsafe_archive") {
        fault(`PUT ${path}`, "cold_copy_corrupt", reply.code);
        throw new AppError("cold_storage_unavailable", "The cold copy of your workspace did not match its checksum; it is kept as it is and nothing was restored.", {
          headers: { "Retry-After": String(PROVISIONER_RETRY_AFTER_S) },
        });
      }
      throw unexpected(`PUT ${path}`, reply);
    },

    async openShell(sessionId) {
      const target = `/v1/containers/${pathId(sessionId)}/shell`;
      const response = await send("GET", target, { headers: { Upgrade: "websocket" } });
      if (response.status === 101 && response.webSocket) return response.webSocket;
      const answer = await readReply(`GET ${target}`, response);
      if (answer.code === "container_not_found" || answer.code === "container_not_running") {
        throw new AppError("not_connected", "The session's container is not running; connect again.");
      }
      throw unexpected(`GET ${target}`, answer);
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
