/**
 * `npm run bench:sessions`: a benchmark, not a test. One run starts the Worker (the deployable bundle
 * under `wrangler dev --local --no-bundle`, local D1 with the migrations applied) and the provisioner
 * (`node provisioner/src/main.ts`, driving the local Docker Engine) on free 127.0.0.1 ports, makes
 * one verified user on plan `cpu-small`, and prints
 *   1. connect latency, first connect and warm reconnect, against the docker CLI (sessions/connect-latency.ts);
 *   2. N concurrent connects on one host, N = 1, 4, 16 (sessions/concurrent-connects.ts; 16 users);
 *   3. file transfer through the Worker against `docker cp` (sessions/file-transfer.ts).
 * Settings: BENCH_ROUNDS (default 5), BENCH_FILE_MB (largest file, default 1024; the other is a quarter).
 * Nothing but 127.0.0.1 and the local Docker socket is contacted. Everything it starts or makes —
 * child processes, containers, volumes and networks (its own and those the provisioner made for the
 * bench user), the temp dir with generated secrets, local D1 state and files — is removed at the
 * end, also on error or Ctrl-C.
 */
import { cpus, loadavg } from "node:os";
import { BENCH_LABEL, prepareWorkspaceImage, removeLeftoversAtCleanup, RUN_ID } from "./lib/docker.ts";
import { fmt, fmtLoad } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { HOST, WORKSPACE_IMAGE } from "./lib/settings.ts";
import { startSessionStack } from "./lib/stack.ts";
import { CONCURRENCY, concurrentConnects, concurrentReport } from "./sessions/concurrent-connects.ts";
import { connectLatency, connectReport } from "./sessions/connect-latency.ts";
import { fileReport, fileTransfer } from "./sessions/file-transfer.ts";
import { PLAN, PLAN_ID, REQUEST_TIMEOUT_MS } from "./sessions/settings.ts";

removeLeftoversAtCleanup({ report: true });

async function main() {
  const startedAt = performance.now();
  const loadAtStart = loadavg();
  const { imageId, dockerVersion } = await prepareWorkspaceImage();

  const tmp = makeTempDir("ozekai-bench-sessions-");
  const stack = await startSessionStack(tmp, { username: `bench${RUN_ID}`, planId: PLAN_ID, timeoutMs: REQUEST_TIMEOUT_MS, extraUsers: Math.max(...CONCURRENCY) - 1 });
  log(`bench user ${stack.username} (tenant ${stack.userId}); docker objects of this run are labelled ${BENCH_LABEL} or ozekai.tenant=${stack.userId}`);
  const loadBeforeConnect = loadavg();
  const rounds = await connectLatency(stack.api);
  const loadBeforeConcurrent = loadavg();
  const concurrent = await concurrentConnects(stack.users);
  const loadBeforeFiles = loadavg();
  const files = await fileTransfer(stack, tmp);
  const loadAtEnd = loadavg();

  const out: string[] = [];
  out.push(
    "",
    `Ozekai sessions benchmark — node ${process.versions.node}, Docker ${dockerVersion}, ${cpus().length} CPUs, load average at start ${fmtLoad(loadAtStart)}, ${new Date().toISOString()}`,
    `(Worker bundle under wrangler dev --local, local D1; provisioner on ${HOST}; image ${WORKSPACE_IMAGE} ${imageId}; plan ${PLAN_ID}: ${PLAN.cpus} CPU, ${PLAN.memoryMb} MiB, ${PLAN.pidsLimit} pids; stack ready in ${fmt(stack.startupS)} s)`,
    "",
  );
  out.push(...connectReport(rounds, loadBeforeConnect));
  out.push(...concurrentReport(concurrent, loadBeforeConcurrent));
  out.push(...fileReport(files, loadBeforeFiles, loadAtEnd));
  out.push("", `total bench time ${fmt((performance.now() - startedAt) / 1000)} s`);
  console.log(out.join("\n"));
}

await runBench("bench:sessions", main, 3000);
