/**
 * The Worker under Miniflare's own HTTP server: the workerd runtime production runs, without
 * `wrangler dev`'s proxy Worker in front of it. Bindings come from wrangler.toml through wrangler's
 * own translation (unstable_getMiniflareWorkerOptions), so the two runtimes serve the same Worker.
 * Run as a child process (its RSS measured like wrangler dev's): `node miniflare-serve.ts <json>`
 * with { script, persist, envFile, port, vars, noAccessLog }; prints "ready" once it answers.
 * `noAccessLog`: ACCESS_LOG_QUEUE is a binding whose send() does nothing (the baseline of
 * bench/access-log.ts: the same Worker without the access log's queue).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseEnv } from "node:util";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { HOST, ROOT } from "./settings.ts";

const { script, persist, envFile, port, vars, noAccessLog } = JSON.parse(process.argv[2]!) as { script: string; persist: string; envFile: string; port: number; vars: Record<string, string>; noAccessLog?: boolean };
// The bundle is ES modules only (wrangler deploy --dry-run resolved the rest), so no module rules.
const { modulesRules: _rules, rootPath: _root, ...workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml")).workerOptions as V4WorkerOptions;
const secrets = parseEnv(readFileSync(envFile, "utf8")) as Record<string, string>;
const NO_LOG = `import { WorkerEntrypoint } from "cloudflare:workers";
export class NoAccessLog extends WorkerEntrypoint { async send() {} async sendBatch() {} }
export default { fetch: () => new Response(null, { status: 404 }) };`;
const withoutLog = (options: V4WorkerOptions): V4WorkerOptions => {
  const { queueProducers, queueConsumers: _consumers, ...rest } = options as V4WorkerOptions & { queueProducers?: Record<string, unknown>; queueConsumers?: unknown };
  const { ACCESS_LOG_QUEUE: _queue, ...producers } = queueProducers ?? {};
  return { ...rest, queueProducers: producers, serviceBindings: { ...(rest as { serviceBindings?: object }).serviceBindings, ACCESS_LOG_QUEUE: { name: "no-access-log", entrypoint: "NoAccessLog" } } } as V4WorkerOptions;
};
const main = { ...workerOptions, name: "ozekai", modules: true, scriptPath: script, modulesRoot: dirname(script), bindings: { ...workerOptions.bindings, ...secrets, ...vars } } as V4WorkerOptions;
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: HOST,
    port,
    // `wrangler dev --persist-to X` keeps its state under X/v3: the same D1 the migrations went into.
    resourcePersistencePath: join(persist, "v3"),
    // /cdn-cgi/local/scheduled runs a cron tick, as under `wrangler dev --test-scheduled` (bench:cold).
    unsafeTriggerHandlers: true,
    workers: noAccessLog ? [withoutLog(main), { name: "no-access-log", modules: true, script: NO_LOG } as V4WorkerOptions] : [main],
  }),
);
await mf.ready;
console.log("ready");
const stop = () => void mf.dispose().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
