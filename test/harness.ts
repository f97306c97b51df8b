/**
 * Test harness: calls the real Worker (workers/index.ts) with the real D1 of this test file. Each
 * helper makes its own tenant with random names and a random client IP, so tests never share rows
 * or rate-limit buckets. Email goes to a recording stand-in for the send_email binding (Cloudflare's
 * email service cannot be reached from tests): `outbox` holds what would have been sent.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../workers/index";
import { CURRENT_POLICY_VERSION } from "../workers/domain/privacy";

export interface SentEmail {
  from: unknown;
  to: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
  /** Another environment (a broken binding, a missing secret); default: the test env. */
  env?: Cloudflare.Env;
}

export const outbox: SentEmail[] = [];

const recordingEmail = {
  async send(message: SentEmail) {
    outbox.push(message);
    return { messageId: `test-${outbox.length}` };
  },
} as unknown as SendEmail;

export const testEnv = () => ({ ...env, EMAIL: recordingEmail }) as unknown as Cloudflare.Env;

export const BASE = "https://api.ozekai.test";

export interface CallOptions {
  body?: unknown;
  rawBody?: BodyInit;
  token?: string;
  ip?: string;
  headers?: Record<string, string>;
  /** Another environment (a broken binding, a missing secret); default: the test env. */
  env?: Cloudflare.Env;
}

export async function call(method: string, path: string, options: CallOptions = {}) {
  const headers = new Headers(options.headers);
  if (options.body !== undefined) headers.set("Content-Type", headers.get("Content-Type") ?? "application/json");
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  headers.set("CF-Connecting-IP", options.ip ?? randomIp());
  const request = new Request(`${BASE}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, options.env ?? testEnv(), ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** One tick of the scheduled handler for `cron`, its jobs running with `scheduledTime` as their clock. */
export async function runCron(cron: string, scheduledTime: number, overrides: Partial<Cloudflare.Env> = {}) {
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(createScheduledController({ cron, scheduledTime }), { ...testEnv(), ...overrides } as Cloudflare.Env, ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

export const randomId = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);
export const randomIp = () => `10.${(crypto.getRandomValues(new Uint8Array(3)) as Uint8Array).join(".")}`;

export const POLICY_VERSION = CURRENT_POLICY_VERSION;
export const GOOD_PASSWORD = "correct horse battery staple 42";

export interface TestUser {
  username: string;
  email: string;
  password: string;
  ip: string;
  accessToken: string;
  refreshToken: string;
  id: string;
}

/** The token in the last email sent to `to` (links carry it after `#token=`). */
export function tokenFromEmail(to: string, subject?: RegExp): string {
  const mail = [...outbox].reverse().find((m) => m.to === to && (!subject || subject.test(m.subject)));
  expect(mail, `an email to ${to}`).toBeDefined();
  const match = /#token=([A-Za-z0-9_-]+)/.exec(mail!.text);
  expect(match, "a token link in the email").not.toBeNull();
  return match![1]!;
}

export async function signup(overrides: Partial<{ username: string; email: string; password: string; ip: string }> = {}) {
  const id = randomId();
  const input = {
    username: overrides.username ?? `u${id}`,
    email: overrides.email ?? `user-${id}@example.com`,
    password: overrides.password ?? GOOD_PASSWORD,
    ip: overrides.ip ?? randomIp(),
  };
  const res = await call("POST", "/v1/auth/signup", {
    ip: input.ip,
    body: { username: input.username, email: input.email, password: input.password, policyVersion: POLICY_VERSION, ageConfirmed: true },
  });
  return { ...input, res };
}

/** A signed-in user; verified unless asked otherwise. */
export async function createUser(options: { verified?: boolean } = {}): Promise<TestUser> {
  const u = await signup();
  expect(u.res.status).toBe(202);
  if (options.verified !== false) {
    const verified = await call("POST", "/v1/auth/verify-email", { ip: u.ip, body: { token: tokenFromEmail(u.email, /Verify/) } });
    expect(verified.status).toBe(200);
  }
  const login = await call("POST", "/v1/auth/login", { ip: u.ip, body: { login: u.username, password: u.password } });
  expect(login.status).toBe(200);
  const me = await call("GET", "/v1/account", { ip: u.ip, token: login.json.accessToken });
  expect(me.status).toBe(200);
  return { username: u.username, email: u.email, password: u.password, ip: u.ip, accessToken: login.json.accessToken, refreshToken: login.json.refreshToken, id: me.json.id };
}

/** Asserts an RFC 9457 problem with the given status and code. */
export function expectProblem(res: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
  expect(res.json.code).toBe(code);
  expect(res.json.status).toBe(status);
  expect(res.json.type).toContain(code);
  expect(res.json.requestId).toBe(res.headers.get("X-Request-Id"));
}

/**
 * A session row straight in D1 (running when `end` is null, ended otherwise) on its own offline
 * host, with a workspace marked deleted so a user may have many: for usage, metering and limit
 * tests that need session times, not a container.
 */
export async function insertSession(userId: string, input: { start: number; end: number | null; planId?: string; gpuCount?: number }): Promise<string> {
  const { start, end, planId = "cpu-small", gpuCount = 0 } = input;
  const hostId = `host-${randomId()}`;
  const workspaceId = `ws-${randomId()}`;
  const id = `ses-${randomId()}`;
  await env.DB.batch([
    env.DB.prepare("insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values (?, 'test', 'url', 'http://127.0.0.1:1', 8, 'offline', ?)").bind(hostId, start),
    env.DB.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, ?, 'deleted', ?, ?)").bind(workspaceId, userId, hostId, start, start),
    env.DB.prepare(
      "insert into sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, ended_at, gpu_type, gpu_count, cpus, memory_mb, pids_limit, ports) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 512, 256, '[]')",
    ).bind(id, userId, workspaceId, hostId, planId, end === null ? "running" : "ended", start, start, end, gpuCount > 0 ? "H100" : null, gpuCount),
  ]);
  return id;
}

/** Rate limits count in fixed windows: a test that fills one starts well inside a window. */
export async function awayFromWindowEdge(periodMs = 60_000, marginMs = 15_000) {
  const left = periodMs - (Date.now() % periodMs);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 250));
}
