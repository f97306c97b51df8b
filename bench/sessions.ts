/**
 * `npm run bench:sessions`: a benchmark, not a test. One run starts the Worker (the deployable bundle
 * under `wrangler dev --local --no-bundle`, local D1 with the migrations applied) and the provisioner
 * (`node provisioner/src/main.ts`, driving the local Docker Engine) on free 127.0.0.1 ports, makes
 * one verified user on plan `cpu-small`, and prints
 *   1. connect latency, first connect and warm reconnect, against the docker CLI (sessions/connect-latency.ts);
 *   2. N concurrent connects on one host, N = 1, 4, 16 (sessions/concurrent-connects.ts; 16 users);
 *   3. file transfer through the Worker against `docker cp` (sessions/file-transfer.ts), once per
 *      Worker runtime (BENCH_RUNTIMES, default "wrangler,miniflare"; each a stack of its own):
 *      wrangler dev, and Miniflare's own server, the workerd path production has; with the same
 *      bytes straight to the provisioner and the CPU each party spends (where the time goes);
 *   4. N concurrent transfers through the Worker on one host, N = 1, 4, 16 (sessions/concurrent-transfers.ts).
 * Settings: BENCH_ROUNDS (default 5), BENCH_FILE_MB (largest file, default 1024; the other is a
 * quarter), BENCH_CONCURRENT_MB (each concurrent transfer, default 1024).
 * Nothing but 127.0.0.1 and the local Docker socket is contacted. Everything it starts or makes —
 * child processes, containers, volumes and networks (its own and those the provisioner made for the
 * bench user), the temp dir with generated secrets, local D1 state and files — is removed at the
 * end, also on error or Ctrl-C.
 */
import { cpus, loadavg } from "node:os";
import { BENCH_LABEL, prepareWorkspaceImage, removeLeftoversAtCleanup, RUN_ID } from "./lib/docker.ts";
import { fmt, fmtLoad } from "./lib/report.ts";
import { log, makeTempDir, runBench } from "./lib/run-bench.ts";
import { stopChild } from "./lib/processes.ts";
import { HOST, WORKSPACE_IMAGE } from "./lib/settings.ts";
import { startSessionStack } from "./lib/stack.ts";
import { benchRuntimes } from "./lib/worker.ts";
import { CONCURRENCY, concurrentConnects, concurrentReport } from "./sessions/concurrent-connects.ts";
import { concurrentTransfers, concurrentTransfersReport } from "./sessions/concurrent-transfers.ts";
import { connectLatency, connectReport } from "./sessions/connect-latency.ts";
import { fileReport, fileTransfer } from "./sessions/file-transfer.ts";
import { goalsTable } from "./sessions/summary.ts";
import { PLAN, PLAN_ID, REQUEST_TIMEOUT_MS } from "./sessions/settings.ts";

removeLeftoversAtCleanup({ report: true });

async function main() {
  const startedAt = performance.now();
  const loadAtStart = loadavg();
  const { imageId, dockerVersion } = await prepareWorkspaceImage();

  const tmp = makeTempDir("ozekai-bench-sessions-");
  const stack = await startSessionStack(tmp, { username: `bench${RUN_ID}`, planId: PLAN_ID, timeoutMs: REQUEST_TIMEOUT_MS, extraUsers: Math.max(...CONCURRENCY) - 1, runtime: benchRuntimes()[0] });
  log(`bench user ${stack.username} (tenant ${stack.userId}); docker objects of this run are labelled ${BENCH_LABEL} or ozekai.tenant=${stack.userId}`);
  const loadBeforeConnect = loadavg();
  const rounds = await connectLatency(stack.api);
  const loadBeforeConcurrent = loadavg();
  const concurrent = await concurrentConnects(stack.users);
  const loadBeforeTransfers = loadavg();
  const transfers = await concurrentTransfers(stack.users, tmp);
  const [firstRuntime, ...otherRuntimes] = benchRuntimes();
  const fileRuns = [{ runtime: firstRuntime!, loadBefore: loadavg(), files: await fileTransfer(stack, tmp), loadAfter: loadavg() }];
  for (const runtime of otherRuntimes) {
    await stopChild(stack.worker.child);
    await stopChild(stack.provisioner.child);
    const again = makeTempDir(`ozekai-bench-sessions-${runtime}-`);
    const other = await startSessionStack(again, { username: `bench${runtime.slice(0, 2)}${RUN_ID}`, planId: PLAN_ID, timeoutMs: REQUEST_TIMEOUT_MS, runtime });
    const loadBefore = loadavg();
    fileRuns.push({ runtime, loadBefore, files: await fileTransfer(other, again), loadAfter: loadavg() });
  }

  const out: string[] = [];
  out.push(
    "",
    `Ozekai sessions benchmark — node ${process.versions.node}, Docker ${dockerVersion}, ${cpus().length} CPUs, load average at start ${fmtLoad(loadAtStart)}, ${new Date().toISOString()}`,
    `(Worker bundle under ${stack.runtime === "wrangler" ? "wrangler dev --local" : "Miniflare's HTTP server"}, local D1; provisioner on ${HOST}; image ${WORKSPACE_IMAGE} ${imageId}; plan ${PLAN_ID}: ${PLAN.cpus} CPU, ${PLAN.memoryMb} MiB, ${PLAN.pidsLimit} pids; stack ready in ${fmt(stack.startupS)} s)`,
    "",
  );
  out.push(...connectReport(rounds, loadBeforeConnect));
  out.push(...concurrentReport(concurrent, loadBeforeConcurrent));
  for (const run of fileRuns) {
    out.push("", `— file transfer, the Worker under ${run.runtime === "wrangler" ? "wrangler dev --local" : "Miniflare's HTTP server (no wrangler proxy Worker)"}`);
    out.push(...fileReport(run.files, run.loadBefore, run.loadAfter));
  }
  out.push("", ...concurrentTransfersReport(transfers, loadBeforeTransfers));
  out.push("", ...goalsTable(rounds, fileRuns));
  out.push("", `total bench time ${fmt((performance.now() - startedAt) / 1000)} s`);
  console.log(out.join("\n"));
}

await runBench("bench:sessions", main, 3000);
