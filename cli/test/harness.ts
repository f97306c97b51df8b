/** Runs `ozekai` as a user would (the installed bin, a subprocess) against the stack global-setup.ts started. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, importJWK, SignJWT } from "jose";
import { inject } from "vitest";
import { wrangler } from "../../bench/lib/wrangler.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** node_modules/.bin/ozekai, the link `npm ci` makes: its `#!/usr/bin/env node` finds Node 22 there. */
const BIN = join(ROOT, "node_modules/.bin/ozekai");

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Its own config dir (profiles): each test user gets one. */
  configDir: string;
  stdin?: string;
  env?: Record<string, string | undefined>;
  /** The working directory (default: the repository root). */
  cwd?: string;
}

/** `ozekai …args` started as a subprocess with OZEKAI_API_URL at the test Worker; `done` is its end (killed after `killAfterMs`). */
export function startOzekai(args: string[], options: RunOptions & { killAfterMs?: number }): { child: ChildProcess; done: Promise<Ran> } {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("OZEKAI_")) delete env[name];
  Object.assign(env, {
    PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    OZEKAI_API_URL: inject("apiUrl"),
    OZEKAI_CONFIG_DIR: options.configDir,
    NO_COLOR: "1",
    ...options.env,
  });
  const child = spawn(BIN, args, { cwd: options.cwd ?? ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin!.end(options.stdin ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 60_000);
  const done = new Promise<Ran>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

/** `ozekai …args` to completion (killed after 60 s), with OZEKAI_API_URL at the test Worker. */
export function ozekai(args: string[], options: RunOptions & { killAfterMs?: number }): Promise<Ran> {
  return startOzekai(args, options).done;
}

/** The one JSON document a `--json` run printed on stdout (fails if there is anything else). */
export function jsonOf(ran: Ran): { ok: boolean; command: string; data?: Record<string, unknown>; error?: Record<string, unknown> } {
  const lines = ran.stdout.split("\n").filter((line) => line !== "");
  if (lines.length !== 1) throw new Error(`expected one JSON line on stdout, got:\n${ran.stdout}\nstderr:\n${ran.stderr}`);
  return JSON.parse(lines[0]!);
}

/** What a run shows about itself, for assertion messages. */
export const shown = (ran: Ran) => `exit ${ran.code}\nstdout: ${ran.stdout}\nstderr: ${ran.stderr}`;

export const newConfigDir = () => mkdtempSync(join(tmpdir(), "ozekai-cli-config-"));

export interface TestUser {
  username: string;
  email: string;
  password: string;
  configDir: string;
}

/** A new account, signed up through the CLI itself (not verified, no plan). */
export async function signUp(): Promise<TestUser> {
  const id = crypto.randomUUID().slice(0, 8);
  const user = { username: `cli${id}`, email: `u-${id}@example.com`, password: `violet harbor lantern ${id} sequence`, configDir: newConfigDir() };
  const ran = await ozekai(["signup", "--user", user.username, "--email", user.email, "--password-stdin", "--confirm-age", "--accept-policy", "--json"], {
    configDir: user.configDir,
    stdin: `${user.password}\n`,
  });
  if (ran.code !== 0) throw new Error(`signup failed: ${shown(ran)}`);
  return user;
}

/** `ozekai login --password-stdin` of `user`, which must succeed; `apiUrl` for another address of the test Worker (a proxy in front of it). */
export async function logIn(user: TestUser, apiUrl?: string): Promise<void> {
  const ran = await ozekai([...(apiUrl ? ["--api-url", apiUrl] : []), "login", "--user", user.username, "--password-stdin"], { configDir: user.configDir, stdin: `${user.password}\n` });
  if (ran.code !== 0) throw new Error(`login failed: ${shown(ran)}`);
}

/** A new account, signed in from its own config dir. */
export async function signedInUser(): Promise<TestUser> {
  const user = await signUp();
  await logIn(user);
  return user;
}

/** The profile file of the test API in `configDir` (cli/src/session.ts names it by the URL). */
export const profileFile = (configDir: string) => join(configDir, "profiles", `${inject("apiUrl").replace(/[^A-Za-z0-9.-]+/g, "_")}.json`);

export const readProfile = (configDir: string) => JSON.parse(readFileSync(profileFile(configDir), "utf8")) as { accessToken: string; refreshToken: string };

/** An access token of the same sign-in as `token`, signed with the Worker's key, that expired 30 s ago. */
export async function expiredCopyOf(token: string): Promise<string> {
  const jwk = JSON.parse(inject("accessKey")) as { kid: string };
  const key = await importJWK(jwk, "EdDSA");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...decodeJwt(token), iat: now - 900, exp: now - 30 })
    .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid, typ: "at+jwt" })
    .sign(key);
}

/** Replaces the stored access token with an expired one of the same sign-in; returns it. */
export async function expireStoredAccessToken(configDir: string): Promise<string> {
  const profile = readProfile(configDir);
  const expired = await expiredCopyOf(profile.accessToken);
  writeFileSync(profileFile(configDir), JSON.stringify({ ...profile, accessToken: expired }), { mode: 0o600 });
  return expired;
}

/** One statement on the test Worker's local D1, as an operator would run it; the rows it returns. */
export async function d1(sql: string): Promise<Record<string, unknown>[]> {
  const output = await wrangler(["d1", "execute", "DB", "--local", "--persist-to", inject("persistDir"), "--json", "--command", sql], inject("wranglerTmp"));
  // --json prints an array with one result per statement; anything wrangler logs comes before it.
  const [first] = JSON.parse(output.slice(output.indexOf("["))) as { results: Record<string, unknown>[] }[];
  return first?.results ?? [];
}

/** The cron expressions of wrangler.toml `[triggers]` (workers/cron/index.ts CRON_JOBS says which jobs each runs). */
export const CRON = { everyMinute: "* * * * *", hourly: "17 * * * *", daily: "0 8 * * *" } as const;

/**
 * One cron tick of the test Worker, as Cloudflare would run it at `time` (ms): wrangler dev's
 * `/cdn-cgi/local/scheduled` (it never fires crons by itself). The jobs take `time` as their
 * clock (workers/cron/index.ts), so a time days ahead is days passing for what they decide; it is
 * the shared Worker, so the tick acts on every account the run made, not just the caller's.
 * Fails when a job failed (the handler then throws and the endpoint answers 500).
 */
export async function cronTick(cron: string, time = Date.now()): Promise<void> {
  // The Worker ignores an expression it does not know (a log line, no error): say so here instead.
  const crons = /^crons = (\[.*\])$/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1];
  if (!crons || !(JSON.parse(crons) as string[]).includes(cron)) throw new Error(`${cron} is not among wrangler.toml's crons ${crons}`);
  const url = new URL("/cdn-cgi/local/scheduled", inject("apiUrl"));
  url.search = new URLSearchParams({ cron, time: String(Math.round(time)) }).toString();
  const response = await fetch(url);
  const outcome = await response.text();
  if (response.status !== 200) throw new Error(`cron tick ${cron} at ${new Date(time).toISOString()}: ${response.status} ${outcome}`);
}

export interface Proxy {
  /** http://127.0.0.1:PORT: give it to `--api-url`. */
  url: string;
  /** Destroys every connection through it now, both ends, without a WebSocket close frame: a network drop. It keeps listening. */
  cut(): number;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 in front of the test Worker. A connection whose client bytes match
 * `stall` (say, a request line) is held from then on: neither that nor anything after it is
 * passed on, and nothing answers, as a middlebox that swallows a connection does. `tamper`
 * changes bytes of the answers on their way (`from` to `to`, of the same length, within one
 * chunk), as a faulty link or middlebox would, without touching their framing.
 */
export async function startProxy(options: { stall?: RegExp; tamper?: { from: string; to: string } } = {}): Promise<Proxy> {
  const { tamper } = options;
  if (tamper && Buffer.byteLength(tamper.from) !== Buffer.byteLength(tamper.to)) throw new Error("tamper: from and to must have the same length");
  const target = new URL(inject("apiUrl"));
  const live = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = netConnect(Number(target.port), target.hostname);
    let held = false;
    for (const socket of [client, upstream]) {
      live.add(socket);
      socket.on("close", () => live.delete(socket));
      socket.on("error", () => undefined); // a cut or a reset: the other side is destroyed below
    }
    client.on("data", (chunk: Buffer) => {
      held ||= options.stall?.test(chunk.toString("latin1")) ?? false;
      if (!held) upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (held) return;
      client.write(tamper ? Buffer.from(chunk.toString("latin1").replaceAll(tamper.from, tamper.to), "latin1") : chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      const count = live.size;
      for (const socket of live) socket.destroy();
      return count;
    },
    close() {
      for (const socket of live) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const checkedName = (username: string) => {
  if (!/^[a-z0-9]+$/.test(username)) throw new Error("unexpected username");
  return username;
};

/** Marks `username` verified in the local D1, as the emailed link would. */
export async function verifyEmail(username: string): Promise<void> {
  await d1(`UPDATE users SET email_verified_at = ${Date.now()} WHERE username = '${checkedName(username)}'`);
}

/** Verifies `username` and puts it on `planId` without Stripe (what an admin does locally: README). */
export async function grantPlan(username: string, planId = "cpu-small"): Promise<void> {
  if (!/^[a-z0-9-]+$/.test(planId)) throw new Error("unexpected plan");
  await d1(`UPDATE users SET plan_id = '${planId}', email_verified_at = ${Date.now()} WHERE username = '${checkedName(username)}'`);
}

/** Makes `username` an admin, as the operator does in SQL (README: no route makes an admin). */
export async function makeAdmin(username: string): Promise<void> {
  await d1(`UPDATE users SET role = 'admin' WHERE username = '${checkedName(username)}'`);
}

/** One GPU's figures in a usage sample: utilization % and VRAM used (MiB) of 81,920. */
export type GpuFigures = [utilizationPercent: number, memoryUsedMb: number];

export interface SampleFigures {
  gpus: GpuFigures[];
  cpuPercent: number;
  memoryMib: number;
  shells?: number;
}

/** The INSERT of one usage sample of `sessionId` at `at` (ms), as the usage cron writes it. */
export function usageSampleRow(session: { sessionId: string; userId: string }, at: number, f: SampleFigures): string {
  const gpus = JSON.stringify(f.gpus.map(([utilizationPercent, memoryUsedMb]) => ({ utilizationPercent, memoryUsedMb, memoryTotalMb: 81920 })));
  const max = Math.max(...f.gpus.map(([u]) => u));
  const used = f.gpus.reduce((sum, [, m]) => sum + m, 0);
  return `INSERT INTO usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, gpus, cpu_percent, memory_used_bytes, shells_attached) VALUES ('${session.sessionId}', '${session.userId}', ${at}, ${f.gpus.length}, ${max}, ${max}, ${used}, ${81920 * f.gpus.length}, '${gpus}', ${f.cpuPercent}, ${f.memoryMib * 1024 * 1024}, ${f.shells ?? 0})`;
}

/**
 * A running session of `user` holding 2 GPUs, started ten minutes ago, with its hot workspace on
 * a host marked offline: rows straight in D1, for what reads a session's samples and needs no
 * container (this machine has no GPU). `end()` ends it, so no later cron tick finds it running.
 */
export async function runningSessionRows(user: TestUser) {
  const response = await fetch(new URL("/v1/account", inject("apiUrl")), { headers: { Authorization: `Bearer ${readProfile(user.configDir).accessToken}` } });
  const { id: userId } = (await response.json()) as { id: string };
  const suffix = crypto.randomUUID().replaceAll("-", "").slice(0, 12);
  const [hostId, workspaceId, sessionId] = [`host-${suffix}`, `ws-${suffix}`, `ses-${suffix}`];
  const started = Date.now() - 10 * 60_000;
  await d1(
    [
      `INSERT INTO gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) VALUES ('${hostId}', 'test', 'url', 'http://127.0.0.1:1', 8, 'offline', ${started})`,
      `INSERT INTO workspaces (id, user_id, host_id, state, created_at, last_used_at) VALUES ('${workspaceId}', '${userId}', '${hostId}', 'hot', ${started}, ${started})`,
      `INSERT INTO sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, gpu_type, gpu_count, cpus, memory_mb, pids_limit, ports) VALUES ('${sessionId}', '${userId}', '${workspaceId}', '${hostId}', 'h100-8', 'running', ${started}, ${started}, 'H100', 2, 16, 65536, 4096, '[]')`,
    ].join("; "),
  );
  return { userId, sessionId, end: () => d1(`UPDATE sessions SET state = 'ended', ended_at = ${Date.now()}, duration_ms = 0 WHERE id = '${sessionId}'`) };
}

/** A new account, signed in, verified and on a plan: it can connect. */
export async function entitledUser(planId?: string): Promise<TestUser> {
  const user = await signedInUser();
  await grantPlan(user.username, planId);
  return user;
}

/** A step at the terminal: once `after` appears, `send` is typed; or, a function, it is run (what it returns, if anything, is typed). */
export interface TerminalStep {
  after: string;
  send: string | (() => Promise<string | undefined> | string | undefined);
}

/**
 * `ozekai …args` in a pseudo-terminal (util-linux `script`), as a person types: each step waits
 * for its text to appear, then sends its keys. Returns the exit code and everything the terminal showed.
 */
export function ozekaiInTerminal(args: string[], steps: TerminalStep[], options: RunOptions & { killAfterMs?: number }): Promise<{ code: number | null; screen: string }> {
  const env: Record<string, string | undefined> = { ...process.env, TERM: "xterm-256color" };
  // What makes Node's styleText plain besides NO_COLOR: CI=… (set on CI machines) among them.
  const plain = ["NO_COLOR", "FORCE_COLOR", "NODE_DISABLE_COLORS", "CI"];
  for (const name of [...plain, ...Object.keys(env).filter((n) => n.startsWith("OZEKAI_"))]) delete env[name];
  Object.assign(env, { PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, OZEKAI_API_URL: inject("apiUrl"), OZEKAI_CONFIG_DIR: options.configDir, ...options.env });
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const child = spawn("script", ["-qec", `stty cols 120 rows 40; exec ${BIN} ${quoted}`, "/dev/null"], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let seen = 0;
  const pending = [...steps];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    screen += chunk;
    const step = pending[0];
    if (step && screen.indexOf(step.after, seen) !== -1) {
      pending.shift();
      seen = screen.length;
      // A moment for the prompt to switch the terminal to raw mode before the keys arrive.
      setTimeout(async () => {
        const keys = typeof step.send === "string" ? step.send : await step.send();
        if (keys) child.stdin.write(keys);
      }, 150);
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

/** Starts `user`'s session through the API (POST /v1/sessions) and waits until it runs; its id. */
export async function runningSession(user: TestUser): Promise<string> {
  const headers = { Authorization: `Bearer ${readProfile(user.configDir).accessToken}` };
  const started = await fetch(`${inject("apiUrl")}/v1/sessions`, { method: "POST", headers });
  if (started.status >= 300) throw new Error(`connect failed: ${started.status} ${await started.text()}`);
  const { id } = (await started.json()) as { id: string };
  for (let i = 0; i < 120; i++) {
    const view = (await (await fetch(`${inject("apiUrl")}/v1/sessions/${id}`, { headers })).json()) as { state: string };
    if (view.state === "running") return id;
    if (view.state !== "starting") throw new Error(`session ${id} is ${view.state}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`session ${id} did not start`);
}
