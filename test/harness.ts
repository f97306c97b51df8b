/**
 * Test harness: calls the real Worker (workers/index.ts) with the real D1 of this test file. Each
 * helper makes its own tenant with random names and a random client IP, so tests never share rows
 * or rate-limit buckets. Email goes to a recording stand-in for the send_email binding (Cloudflare's
 * email service cannot be reached from tests): `outbox` holds what would have been sent.
 * Access-log lines are held by a stand-in producer until a test reads them: `accessLogLines()`
 * hands them to the real consumer (workers/queue.ts) as the queue would, then reads R2. A test
 * then knows every line it caused is stored; test/access-logs.test.ts runs the real queue too.
 */
import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { AccessLine } from "../workers/adapters/log";
import { ACCESS_PREFIX } from "../workers/domain/access-logs";
import worker from "../workers/index";
import { ACCESS_LOG_QUEUE_NAME } from "../workers/queue";
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

/** Lines sent and not yet consumed. */
export const queuedAccessLines: AccessLine[] = [];
let messageSeq = 0;

const holdingQueue = {
  async send(body: AccessLine) {
    queuedAccessLines.push(body);
  },
  async sendBatch(messages: { body: AccessLine }[]) {
    for (const message of messages) queuedAccessLines.push(message.body);
  },
} as unknown as Queue<AccessLine>;

export const testEnv = () => ({ ...env, EMAIL: recordingEmail, ACCESS_LOG_QUEUE: holdingQueue }) as unknown as Cloudflare.Env;

/** The real consumer over a batch of messages, as the queue delivers one; its ack/retry state. */
export async function consumeAccessBatch(messages: { id: string; body: AccessLine; attempts?: number }[], queueName = ACCESS_LOG_QUEUE_NAME, environment: Cloudflare.Env = testEnv()) {
  const batch = createMessageBatch<AccessLine>(
    queueName,
    messages.map((m) => ({ id: m.id, body: m.body, attempts: m.attempts ?? 1, timestamp: new Date() })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, environment as never, ctx);
  return getQueueResult(batch, ctx);
}

/** Every line queued so far, consumed in batches of 100 (wrangler.toml max_batch_size), each acknowledged. */
export async function drainAccessLog() {
  while (queuedAccessLines.length > 0) {
    const messages = queuedAccessLines.splice(0, 100).map((body) => ({ id: `m${++messageSeq}-${randomId()}`, body }));
    const result = await consumeAccessBatch(messages);
    expect(result.ackAll, "the consumer acknowledged its batch").toBe(true);
  }
}

/** The records of one gzip NDJSON object in the LOGS bucket. */
export async function readLogObject<T = AccessLine>(key: string): Promise<T[]> {
  const object = await env.LOGS.get(key);
  if (!object) return [];
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  return text === "" ? [] : text.split("\n").map((line) => JSON.parse(line) as T);
}

/** Keys under a prefix of the LOGS bucket, all pages. */
export async function logObjectKeys(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LOGS.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Every access-log line stored, once the queue is drained: where the lines now live (R2), whoever they belong to. */
export async function accessLogLines(): Promise<AccessLine[]> {
  await drainAccessLog();
  const lines: AccessLine[] = [];
  for (const key of await logObjectKeys(ACCESS_PREFIX)) lines.push(...(await readLogObject(key)));
  return lines;
}

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
