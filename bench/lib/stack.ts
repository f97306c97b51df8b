/** The session stack: the Worker bundle under wrangler dev, the provisioner on local Docker, one bench user. */
import { join } from "node:path";
import { configuredHostId } from "../../contract/provisioner-token.ts";
import { trackLabel } from "./docker.ts";
import { type Api, expect } from "./http.ts";
import { freePort, type Started, startProcess, waitHealthy } from "./processes.ts";
import { log } from "./run-bench.ts";
import { HOST, PASSWORD, POLICY_VERSION, ROOT } from "./settings.ts";
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
  options: { username: string; planId: string; timeoutMs: number; env?: string[]; wranglerArgs?: string[]; provisionerEnv?: Record<string, string>; runtime?: WorkerRuntime },
): Promise<SessionStack> {
  const started = performance.now();
  log("bundling the Worker (wrangler deploy --dry-run) …");
  const { entry: script } = await dryRunBundle(tmp);
  const provisionerKey = await privateJwk("bench-provisioner");
  const { d: _private, ...provisionerPublic } = provisionerKey;
  const provisionerPort = await freePort();
  const provisionerUrl = `http://${HOST}:${provisionerPort}`;
  const envFile = await writeEnvFile(tmp, [`PROVISIONER_PRIVATE_KEY='${JSON.stringify(provisionerKey)}'`, `PROVISIONER_URL=${provisionerUrl}`, ...(options.env ?? [])]);
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

  const api: Api = { base, timeoutMs: options.timeoutMs };
  const { username, planId } = options;
  await expect(api, "POST", "/v1/auth/signup", [202], { username, email: `${username}@example.com`, password: PASSWORD, policyVersion: POLICY_VERSION, ageConfirmed: true });
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--command", `UPDATE users SET plan_id = '${planId}', email_verified_at = ${Date.now()} WHERE username = '${username}'`], tmp);
  const login = await expect(api, "POST", "/v1/auth/login", [200], { login: username, password: PASSWORD });
  api.token = (login.json as { accessToken: string }).accessToken;
  const account = (await expect(api, "GET", "/v1/account", [200])).json as { id: string; canStartSessions: boolean; restrictions: string[] };
  if (!account.canStartSessions) throw new Error(`the bench user cannot start sessions: ${account.restrictions.join(", ")}`);
  trackLabel(`ozekai.tenant=${account.id}`);
  return { api, userId: account.id, username, worker, provisioner, startupS, runtime };
}
