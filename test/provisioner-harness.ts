/**
 * Helpers for session tests: the real provisioner started by test/global-setup.ts, reached
 * straight (signed like the Worker signs) to see what really exists on Docker, and to clean up.
 */
import { env } from "cloudflare:workers";
import { type CryptoKey, importJWK, type JWK } from "jose";
import { configuredHostId, isStreamedUpload, type ProvisionerSigningKey, signProvisionerRequest } from "../contract/provisioner-token";
import { afterEach, expect } from "vitest";
import { findImage } from "../workers/domain/plans";
import { call, createUser, type TestUser } from "./harness";

/** Grants a plan as an admin grant does (users.plan_id), without a subscription. */
export async function grantPlan(userId: string, planId = "cpu-small") {
  await env.DB.prepare("update users set plan_id = ? where id = ?").bind(planId, userId).run();
}

let key: Promise<ProvisionerSigningKey> | undefined;

async function signingKey(): Promise<ProvisionerSigningKey> {
  const jwk = JSON.parse(env.PROVISIONER_PRIVATE_KEY!) as JWK & { kid: string };
  return { kid: jwk.kid, privateKey: (await importJWK(jwk, "EdDSA")) as CryptoKey };
}

/**
 * A request to the test provisioner, signed as the Worker signs it (for the configured host's id),
 * with a body: JSON text, or the bytes of a streamed upload (bound by their length).
 */
export async function provisioner(method: string, path: string, body?: string | Uint8Array) {
  key ??= signingKey();
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const streamed = isStreamedUpload(method, path.split("?")[0]!);
  const token = await signProvisionerRequest(await key, {
    hostId: await configuredHostId(env.PROVISIONER_URL!),
    method,
    target: path,
    body: bytes && streamed ? { length: bytes.length } : bytes,
  });
  const headers = { Authorization: `Bearer ${token}`, ...(bytes ? { "Content-Type": streamed ? "application/octet-stream" : "application/json" } : {}) };
  const response = await fetch(`${env.PROVISIONER_URL}${path}`, { method, headers, body: bytes });
  // Files come back as octet streams: decoded here, not by text(), which warns on them.
  const answer = new Uint8Array(await response.arrayBuffer());
  const text = new TextDecoder().decode(answer);
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, bytes: answer };
}

export interface HostContainer {
  sessionId: string;
  workspaceId: string;
  tenantId: string;
  containerId: string;
  state: string;
}

/** The containers Docker holds for a user (the provisioner labels them with the user as tenant). */
export async function containersOf(userId: string): Promise<HostContainer[]> {
  const res = await provisioner("GET", "/v1/containers");
  expect(res.status, res.text).toBe(200);
  return (res.json.containers as HostContainer[]).filter((c) => c.tenantId === userId);
}

export const volumeExists = async (workspaceId: string) => {
  const res = await provisioner("GET", "/v1/workspaces");
  expect(res.status, res.text).toBe(200);
  return (res.json.workspaces as { workspaceId: string }[]).some((w) => w.workspaceId === workspaceId);
};

const users: string[] = [];

/** Every test's users are cleaned up on the host afterwards: containers removed, volumes deleted. */
afterEach(async () => {
  for (const userId of users.splice(0)) {
    for (const container of await containersOf(userId)) await provisioner("DELETE", `/v1/containers/${container.sessionId}`);
    const { results } = await env.DB.prepare("select id from workspaces where user_id = ?").bind(userId).all<{ id: string }>();
    for (const { id } of results) await provisioner("DELETE", `/v1/workspaces/${id}`);
  }
});

/** A verified user with a plan, tracked for cleanup. */
export async function entitledUser(planId = "cpu-small"): Promise<TestUser> {
  const user = await createUser();
  await grantPlan(user.id, planId);
  users.push(user.id);
  return user;
}

/** Tracks a user made elsewhere (say, unverified) for cleanup. */
export const track = (user: TestUser) => {
  users.push(user.id);
  return user;
};

/** Connect; `image` names a catalog image (absent: DEFAULT_IMAGE, `minimal` in these tests). */
export const connect = (user: TestUser, options: { env?: Cloudflare.Env; image?: string } = {}) => {
  const { image, ...rest } = options;
  return call("POST", "/v1/sessions", { ip: user.ip, token: user.accessToken, ...(image === undefined ? {} : { body: { image } }), ...rest });
};

/** The reference of the catalog's small image: what containers made straight on the test host run. */
export const MINIMAL_IMAGE = findImage("minimal")!.reference;

/** Rows straight from D1, to assert what the API does not show. */
export const liveSessionsOf = async (userId: string) =>
  (await env.DB.prepare("select * from sessions where user_id = ? and state in ('starting', 'running', 'stopping')").bind(userId).all()).results;
export const sessionRowsOf = async (userId: string) =>
  (await env.DB.prepare("select * from sessions where user_id = ? order by created_at").bind(userId).all<Record<string, unknown>>()).results;
export const commandsOf = async (userId: string) =>
  (await env.DB.prepare("select command, session_id, request_id from command_log where user_id = ? order by id").bind(userId).all<{ command: string; session_id: string | null; request_id: string }>()).results;
