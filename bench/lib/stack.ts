/** The session stack: the Worker bundle under wrangler dev, the provisioner on local Docker, one bench user. */
import { join } from "node:path";
import { type CryptoKey, importJWK } from "jose";
import { configuredHostId, isStreamedUpload, signProvisionerRequest } from "../../contract/provisioner-token.ts";
import { trackLabel } from "./docker.ts";
import { type Api, call, expect } from "./http.ts";
import { freePort, type Started, startProcess, waitHealthy } from "./processes.ts";
import { log } from "./run-bench.ts";
import { HOST, PASSWORD, POLICY_VERSION, ROOT } from "./settings.ts";
import { sleep } from "./time.ts";
import { dryRunBundle, migrateLocalD1, privateJwk, startMiniflare, startWranglerDev, type WorkerRuntime, writeEnvFile } from "./worker.ts";
import { wrangler } from "./wrangler.ts";
export interface SessionStack {
  api: Api;
  userId: string;
  username: string;
  worker: Started;
  provisioner: Started;
  /** Seconds from the start of bundling to a signed-in, entitled user. */
  startupS: number;
  runtime: WorkerRuntime;
  /** The provisioner reached straight, signed as the Worker signs (to measure the host alone). */
  host: HostApi;
  /** The bench user first, then `extraUsers` more, each signed in and entitled the same way. */
  users: { api: Api; userId: string }[];
}

export interface HostApi {
  url: string;
  /** A bearer token for one request; a streamed upload is bound by its length and announced SHA-256. */
  token(method: string, target: string, body?: string | { length: number; sha256?: string }): Promise<string>;
  /** One JSON request; its status and parsed answer. */
  call(method: string, target: string, body?: unknown): Promise<{ status: number; json: unknown }>;
}

/**
 * Bundles the Worker, starts the provisioner (local Docker; generated key pair, the provisioner
 * holding the public half only) and the Worker under `wrangler dev` (or, with runtime "miniflare",
 * Miniflare's own server; wranglerArgs are wrangler's only) on free 127.0.0.1 ports, then
 * signs up one user, verified and on `planId` (what an admin does locally: README), and signs in.
 * `env` lines go to the Worker's .dev.vars, `provisionerEnv` to the provisioner's environment.
 * What the provisioner makes for the user carries its tenant label: cleanup removes it by that.
 */
export async function startSessionStack(
  tmp: string,
  options: { username: string; planId: string; timeoutMs: number; env?: string[]; wranglerArgs?: string[]; provisionerEnv?: Record<string, string>; extraUsers?: number; runtime?: WorkerRuntime },
): Promise<SessionStack> {
  const started = performance.now();
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry: script } = await dryRunBundle(tmp);
  const provisionerKey = await privateJwk("bench-provisioner");
  const { d: _private, ...provisionerPublic } = provisionerKey;
  const provisionerPort = await freePort();
  const provisionerUrl = `http://${HOST}:${provisionerPort}`;
  const envFile = await writeEnvFile(tmp, [`PROVISIONER_PRIVATE_KEY='${JSON.stringify(provisionerKey)}'`, `PROVISIONER_URL=${provisionerUrl}`, "DEFAULT_IMAGE=minimal" /* the busybox image the by-hand docker runs compare with */, ...(options.env ?? [])]);
  const persist = await migrateLocalD1(tmp);

  log(`starting the provisioner on http://${HOST}:${provisionerPort} …`);
  const provisioner = startProcess(process.execPath, ["--no-warnings", join(ROOT, "provisioner/src/main.ts")], {
    ...process.env,
    PORT: String(provisionerPort),
    PROVISIONER_HOST_ID: await configuredHostId(provisionerUrl),
    PROVISIONER_PUBLIC_JWK: JSON.stringify(provisionerPublic),
    ...options.provisionerEnv,
  });
  const runtime = options.runtime ?? "wrangler";
  if (runtime === "miniflare" && options.wranglerArgs) throw new Error("wranglerArgs are for wrangler dev only");
  const { base, dev: worker } = runtime === "wrangler" ? await startWranglerDev(tmp, script, persist, envFile, options.wranglerArgs) : await startMiniflare(script, persist, envFile);
  await waitHealthy(`http://${HOST}:${provisionerPort}/healthz`, provisioner, "the provisioner");
  await waitHealthy(`${base}/healthz`, worker, runtime === "wrangler" ? "wrangler dev" : "Miniflare");
  const startupS = (performance.now() - started) / 1000;

  const { username, planId } = options;
  const usernames = [username, ...Array.from({ length: options.extraUsers ?? 0 }, (_, i) => `${username}u${i + 1}`)];
  const anonymous: Api = { base, timeoutMs: options.timeoutMs };
  for (const name of usernames) {
    await authCall(anonymous, "/v1/auth/signup", 202, { username: name, email: `${name}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  }
  const names = usernames.map((name) => `'${name}'`).join(", ");
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--command", `UPDATE users SET plan_id = '${planId}', email_verified_at = ${Date.now()} WHERE username IN (${names})`], tmp);
  const users: SessionStack["users"] = [];
  for (const name of usernames) {
    const login = await authCall(anonymous, "/v1/auth/login", 200, { login: name, password: PASSWORD });
    const api: Api = { base, timeoutMs: options.timeoutMs, token: (login.json as { accessToken: string }).accessToken };
    const account = (await expect(api, "GET", "/v1/account", [200])).json as { id: string; canStartSessions: boolean; restrictions: string[] };
    if (!account.canStartSessions) throw new Error(`the bench user ${name} cannot start sessions: ${account.restrictions.join(", ")}`);
    trackLabel(`ozekai.tenant=${account.id}`);
    users.push({ api, userId: account.id });
  }
  const [first] = users;
  return { api: first!.api, userId: first!.userId, username, worker, provisioner, startupS, runtime, host: await hostApi(provisionerUrl, provisionerKey), users };
}

/** A sign-up or sign-in, waiting out the per-address rate limit (30 a minute) when many users are made. */
async function authCall(api: Api, path: string, status: number, body: unknown) {
  for (;;) {
    const reply = await call(api, "POST", path, body);
    if (reply.status === status) return reply;
    if (reply.status !== 429) throw new Error(`POST ${path}: ${reply.status} ${reply.text.slice(0, 500)}`);
    await sleep(5_000);
  }
}

async function hostApi(url: string, jwk: Awaited<ReturnType<typeof privateJwk>>): Promise<HostApi> {
  const key = { kid: jwk.kid, privateKey: (await importJWK(jwk, "EdDSA")) as CryptoKey };
  const hostId = await configuredHostId(url);
  const token: HostApi["token"] = (method, target, body) =>
    signProvisionerRequest(key, { hostId, method, target, body: typeof body === "string" && isStreamedUpload(method, target.split("?")[0]!) ? { length: body.length } : body });
  return {
    url,
    token,
    async call(method, target, body) {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { Authorization: `Bearer ${await token(method, target, text)}` };
      if (text !== undefined) headers["Content-Type"] = "application/json";
      const res = await fetch(`${url}${target}`, { method, headers, body: text });
      const answer = await res.text();
      return { status: res.status, json: answer ? (JSON.parse(answer) as unknown) : undefined };
    },
  };
}
