/** connect, disconnect, destroy, status: a session's life, and what it costs while it lives. */
import type { Schemas } from "@ozekai/client";
import { CliError } from "../errors.ts";
import { bytes, costCents, duration, money, thisMonth, when } from "../format.ts";
import { table } from "../output.ts";
import { askText } from "../prompts.ts";
import { type Program, run } from "../run.ts";
import { type GlobalOptions, openSession, type Session, unwrap } from "../session.ts";
import { runsACommand } from "../usable.ts";
import { openShell } from "./shell.ts";

type ApiSession = Schemas["Session"];
type Workspace = Schemas["Workspace"];
type Plan = Schemas["Plan"];

const LIVE = new Set<ApiSession["state"]>(["starting", "running", "stopping"]);
const DEFAULT_CONNECT_TIMEOUT_S = 300;
const POLL_MS = 1000;
/** GET /v1/workspace has a budget of 30 calls a minute per account: a restore's progress takes 20 of them. */
const RESTORE_POLL_MS = 3000;
const WATCH_MS = 5000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The user's live session, if any: the newest one, when it is starting, running or stopping. */
async function liveSession(session: Session): Promise<ApiSession | undefined> {
  const { sessions } = unwrap(await session.client.api.GET("/v1/sessions", { params: { query: { limit: 1 } } }));
  const [newest] = sessions;
  return newest && LIVE.has(newest.state) ? newest : undefined;
}

/** The workspace, or null when the user has none (never connected, or destroyed). */
async function workspaceOrNull(session: Session): Promise<Workspace | null> {
  const result = await session.client.api.GET("/v1/workspace");
  if (result.response.status === 404) return null;
  return unwrap(result);
}

async function planOf(session: Session, planId: string | null): Promise<Plan | undefined> {
  if (!planId) return undefined;
  const { plans } = unwrap(await session.client.api.GET("/v1/plans"));
  return plans.find((p) => p.id === planId);
}

const priceLine = (plan: Plan | undefined, planId: string) => (plan ? `${planId} at ${money(plan.pricePerHourCents)}/h` : planId);

/** Billed time of a session so far (ended: its duration; running: since it started). */
const billedMs = (s: ApiSession, now = Date.now()) => s.durationMs ?? (s.startedAt ? now - Date.parse(s.startedAt) : 0);

/** What the workspace's dates promise, in lines: kept, when it may be deleted (policy §6), cold storage. */
function keptLines(workspace: Workspace | null): string[] {
  if (!workspace) return [];
  const lines = [`Your workspace is kept (${bytes(workspace.sizeBytes)}).`];
  const cold = workspace.movesToColdStorageAt;
  lines.push(`${cold ? `Unused until ${when(cold)}, it may move to cold storage from then on` : "Unused, it may move to cold storage"}; the next \`ozekai connect\` brings it back (that connect takes longer).`);
  if (workspace.deletesAt) lines.push(`Without any activity on your account, it will be deleted on ${when(workspace.deletesAt)}, after a warning email 7 days before.`);
  return lines;
}

// ── connect ───────────────────────────────────────────────────────────────────────────────────

interface Progress {
  note(message: string): void;
}

/**
 * Shows the workspace's move back from cold storage while a connect waits, each change once. The
 * first look comes before the POST: a small cold copy can be restored between two polls, and a
 * workspace in cold storage at that moment is restored by this connect (or by the one it waits for).
 */
async function watchRestore(session: Session, progress: Progress): Promise<{ stop: () => void; restored: () => boolean }> {
  let stopped = false;
  let last = "";
  let restoring = false;
  const look = async () => {
    const result = await session.client.api.GET("/v1/workspace").catch(() => undefined);
    const w = result?.data;
    if (stopped || !w) return;
    let line: string | undefined;
    if (w.state === "cold") line = `your workspace is in cold storage${w.sizeBytes !== null ? ` (${bytes(w.sizeBytes)})` : ""}: restoring it first…`;
    else if (w.state === "restoring") {
      const t = w.transfer;
      const moved = t ? `${bytes(t.bytes)}${t.totalBytes ? ` of ${bytes(t.totalBytes)} (${Math.floor((100 * t.bytes) / Math.max(1, t.totalBytes))} %)` : ""}` : "";
      line = `restoring your workspace from cold storage… ${moved}`;
    } else if (w.state === "archiving") line = "stopping the archive to cold storage in progress…";
    restoring ||= w.state === "cold" || w.state === "restoring";
    if (line && line !== last) progress.note(line);
    last = line ?? last;
  };
  await look();
  // A timer, not a sleeping loop: a pending sleep would hold the process up to RESTORE_POLL_MS
  // after the connect is done.
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    timer = setTimeout(() => void look().then(() => stopped || next()), RESTORE_POLL_MS);
  };
  next();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
    restored: () => restoring,
  };
}

/** POST /v1/sessions until it answers with a session (retrying while busy), or the deadline. */
async function startOrResume(session: Session, deadline: number, progress: Progress, image: string | undefined): Promise<{ started: ApiSession; resumed: boolean }> {
  for (;;) {
    const result = await session.client.api.POST("/v1/sessions", image === undefined ? {} : { body: { image } });
    if (result.data) return { started: result.data, resumed: result.response.status === 200 };
    const code = (result.error as { code?: string } | undefined)?.code;
    // Busy (a restore or a stop by another request): wait as asked, within the deadline.
    if (code === "session_busy" || code === "workspace_busy") {
      const retry = Number(result.response.headers.get("Retry-After") ?? "5");
      const wait = Math.min(Math.max(1, retry) * 1000, deadline - Date.now());
      if (wait <= 0) unwrap(result);
      progress.note(code === "workspace_busy" ? "your workspace is busy (being restored, archived or deleted); waiting…" : "your session is changing state; waiting…");
      await sleep(wait);
      continue;
    }
    unwrap(result);
    throw new CliError("error", "The API answered without a session.");
  }
}

/** Polls the session until it leaves `starting` (202: another connect is starting it). */
async function untilRunning(session: Session, started: ApiSession, deadline: number): Promise<ApiSession> {
  let current = started;
  while (current.state === "starting" && Date.now() < deadline) {
    await sleep(POLL_MS);
    current = unwrap(await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: current.id } } }));
  }
  return current;
}

/** Tries a command in the container until one runs, or the deadline. */
async function untilUsable(session: Session, running: ApiSession, deadline: number): Promise<{ ok: boolean; reason?: string }> {
  let reason = "no time left to check";
  while (Date.now() < deadline) {
    const probe = await runsACommand(session, running.id, Math.max(1000, Math.min(15_000, deadline - Date.now())));
    if (probe.ok) return { ok: true };
    reason = probe.reason;
    // The session may have ended meanwhile (a disconnect elsewhere, the usage limit): no point waiting.
    const now = unwrap(await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: running.id } } }));
    if (now.state !== "running") throw new CliError("error", `Your session ${running.id} is ${now.state} now, not running: connect again.`);
    await sleep(POLL_MS);
  }
  return { ok: false, reason };
}

const timedOut = (seconds: number, s: ApiSession | undefined, reason: string) =>
  new CliError(
    "unavailable",
    s?.state === "running"
      ? `Your session ${s.id} runs (and bills) but did not run a command within ${seconds} s (${reason}). Check with \`ozekai status\`; \`ozekai disconnect\` stops it.`
      : `Your session did not start within ${seconds} s${s ? ` (it is ${s.state})` : ""}. It may still start, and bills once it runs: \`ozekai status\` shows it, \`ozekai disconnect\` stops it.`,
  );

function parseTimeout(raw: string): number {
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new CliError("usage", `--timeout takes whole seconds from 1 to 3600, not ${JSON.stringify(raw)}.`);
  return seconds;
}

// ── status ────────────────────────────────────────────────────────────────────────────────────

interface StatusData {
  /** A session is starting, running or stopping: session time may accrue. */
  billingNow: boolean;
  session: (ApiSession & { uptimeMs: number | null; pricePerHourCents: number | null; costSoFarCents: number | null }) | null;
  metrics: Schemas["SessionMetrics"]["samples"][number] | null;
  workspace: Workspace | null;
  thisMonth: Schemas["Usage"]["thisMonth"];
  billing: Schemas["Billing"];
}

async function statusReport(session: Session): Promise<{ data: StatusData; lines: string[] }> {
  const [live, workspace, account, billing, usage] = await Promise.all([
    liveSession(session),
    workspaceOrNull(session),
    session.client.api.GET("/v1/account").then(unwrap),
    session.client.api.GET("/v1/billing").then(unwrap),
    session.client.api.GET("/v1/usage", { params: { query: thisMonth() } }).then(unwrap),
  ]);
  const plan = await planOf(session, live?.planId ?? account.planId);
  const metrics = live?.state === "running" ? unwrap(await session.client.api.GET("/v1/sessions/{id}/metrics", { params: { path: { id: live.id }, query: { limit: 1 } } })) : undefined;
  const latest = metrics?.samples.at(-1) ?? null;
  const now = Date.now();
  const uptimeMs = live ? billedMs(live, now) : null;
  const sessionData = live
    ? {
        ...live,
        uptimeMs,
        pricePerHourCents: plan?.pricePerHourCents ?? null,
        costSoFarCents: plan && uptimeMs !== null ? Math.round(costCents(uptimeMs, plan.pricePerHourCents) * 100) / 100 : null,
      }
    : null;
  const data: StatusData = {
    billingNow: live !== undefined,
    session: sessionData,
    metrics: latest,
    workspace,
    thisMonth: { ...usage.thisMonth },
    billing,
  };
  return { data, lines: statusLines(data, plan) };
}

function statusLines(data: StatusData, plan: Plan | undefined): string[] {
  const lines: string[] = [];
  const s = data.session;
  if (s) {
    const rows: [string, string][] = [
      ["session", `${s.id} · ${s.state}`],
      ["plan", priceLine(plan, s.planId)],
      ["image", s.image],
    ];
    if (s.state === "starting") rows.push(["billing", "starts as soon as it runs"]);
    else rows.push(["uptime", `${duration(s.uptimeMs ?? 0)} since ${s.startedAt ? when(s.startedAt) : "—"}`], ["cost so far", s.costSoFarCents !== null ? `${money(s.costSoFarCents)} (estimate; the invoice is what is charged)` : "unknown"]);
    // The idle rule's time (the API's), so a user who left it running learns before the disconnect.
    if (s.idleDisconnectAt) rows.push(["idle", `disconnected at ${when(s.idleDisconnectAt)} unless it is used before then`]);
    lines.push(...table(rows));
    const m = data.metrics;
    if (m) {
      const gpus = m.gpus ?? [];
      gpus.forEach((g, i) => {
        const vram = g.memoryUsedMb !== null && g.memoryTotalMb !== null ? `${g.memoryUsedMb} / ${g.memoryTotalMb} MiB VRAM` : "VRAM unknown";
        lines.push(...table([[`gpu ${i}`, `${g.utilizationPercent ?? "?"} % · ${vram}`]]));
      });
      lines.push(...table([["cpu · memory", `${m.cpuPercent ?? "?"} % · ${bytes(m.memoryUsedBytes)} (sample of ${when(m.at)})`]]));
    } else if (s.state === "running") lines.push("metrics      no sample yet (one a minute)");
    lines.push(`Billing now: ${priceLine(plan, s.planId)}. Stop it with \`ozekai disconnect\`.`);
  } else {
    lines.push("No session is running.");
  }
  lines.push("");
  const w = data.workspace;
  if (w) {
    const rows: [string, string][] = [
      ["workspace", `${w.state} · ${bytes(w.sizeBytes)}${w.transfer ? ` · moved ${bytes(w.transfer.bytes)}${w.transfer.totalBytes ? ` of ${bytes(w.transfer.totalBytes)}` : ""}` : ""}`],
      ["last activity", when(w.lastActivityAt)],
      ["cold storage", w.movesToColdStorageAt ? `from ${when(w.movesToColdStorageAt)} if unused until then` : w.state === "cold" ? "there now (the next connect restores it)" : "not while a session uses it"],
      ["deleted on", w.deletesAt ? `${when(w.deletesAt)} unless there is activity first` : "not while a session uses it"],
      // What ssh shows on a first connection: compare before trusting it (`ozekai ssh-config` pins it).
      ["ssh host key", w.sshHostKey ? `${w.sshHostKey.fingerprint} (ED25519)` : "none yet (made by the first session on an image with SSH)"],
    ];
    lines.push(...table(rows));
  } else lines.push("workspace    none (the next connect makes one)");
  const t = data.thisMonth;
  const used = `${(t.usedSeconds / 3600).toFixed(2)} h`;
  lines.push(
    ...table([
      ["this month", `${t.month}: ${used}${t.limitHours !== null ? ` of your ${t.limitHours} h limit (at it: ${t.limitAction === "disconnect" ? "disconnect" : "a notice"})` : " (no limit: `ozekai limit HOURS`)"}`],
      ["subscription", `${data.billing.planId ?? "no plan"} · ${data.billing.status ?? "none"}${data.billing.graceEndsAt ? ` · payment failed: sessions stop at ${when(data.billing.graceEndsAt)}` : ""}`],
    ]),
  );
  if (t.sessionsRefused) lines.push("Your usage limit is reached: new sessions are refused until next month (`ozekai limit` to change it).");
  // Only when no session is starting, running or stopping: then no session time can accrue.
  if (!data.billingNow) lines.push("", "Nothing is billing now.");
  return lines;
}

// ── the commands ──────────────────────────────────────────────────────────────────────────────

export function registerSessionCommands(program: Program) {
  program
    .command("connect")
    .description("Start your GPU session (or resume the running one) and wait until it runs a command")
    .option("--no-shell", "do not open a shell afterwards")
    .option("--timeout <seconds>", "how long to wait until it is usable", String(DEFAULT_CONNECT_TIMEOUT_S))
    .option("--image <name>", "the image the session runs (`ozekai images`; default: your plan's)")
    .addHelpText("after", "\nExamples:\n  ozekai connect --no-shell --timeout 120\n  ozekai connect --image base")
    .action(async (options, command) => {
      let ready: string | undefined;
      await run(command, async ({ out, globals }) => {
        const seconds = parseTimeout(options.timeout);
        const begun = Date.now();
        const deadline = begun + seconds * 1000;
        // One request may restore a workspace from cold storage: it may take the whole timeout.
        const session = openSession(globals, { timeoutMs: seconds * 1000 });
        await session.requireSignIn();
        out.note("starting your session…");
        const restore = await watchRestore(session, out);
        let started: ApiSession;
        let resumed: boolean;
        try {
          ({ started, resumed } = await startOrResume(session, deadline, out, options.image));
        } catch (error) {
          if (error instanceof Error && (error.name === "TimeoutError" || (error.cause instanceof Error && error.cause.name === "TimeoutError"))) throw timedOut(seconds, await liveSession(session).catch(() => undefined), "");
          throw error;
        } finally {
          restore.stop();
        }
        if (resumed) out.note("your session was already running: resuming it.");
        const running = await untilRunning(session, started, deadline);
        if (running.state === "starting") throw timedOut(seconds, running, "");
        if (running.state !== "running") throw new CliError("error", `Your session ${running.id} is ${running.state}: connect again.`);
        out.note("running; checking that it runs a command…");
        // The price line's plan is looked up while the container answers the test command.
        const planLookup = planOf(session, running.planId);
        planLookup.catch(() => undefined);
        const usable = await untilUsable(session, running, deadline);
        if (!usable.ok) throw timedOut(seconds, running, usable.reason ?? "");
        const plan = await planLookup;
        const data = {
          session: running,
          resumed,
          restoredFromColdStorage: restore.restored(),
          usable: true,
          waitedMs: Date.now() - begun,
          billing: { planId: running.planId, pricePerHourCents: plan?.pricePerHourCents ?? null, since: running.startedAt },
          stop: "ozekai disconnect",
        };
        const lines = [
          `Connected: session ${running.id} runs the ${running.image} image and is ready (${duration(data.waitedMs)}).`,
          `Billing now: ${priceLine(plan, running.planId)}, since ${running.startedAt ? when(running.startedAt) : "now"}.`,
          "Stop it with `ozekai disconnect` (your workspace is kept).",
        ];
        ready = running.id;
        return { data, lines };
      });
      // At a terminal, the shell follows (its exit code is the command's); elsewhere the summary is all.
      const globals = command.optsWithGlobals() as GlobalOptions;
      if (ready && options.shell && !globals.json && process.stdin.isTTY && process.stdout.isTTY) process.exitCode = await openShell(globals, ready);
    });

  program
    .command("disconnect")
    .description("Stop your session: billing stops now, the workspace is kept")
    .addHelpText("after", "\nExample:\n  ozekai disconnect")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const live = await liveSession(session);
        if (!live) throw new CliError("not_found", "No session is running: nothing is billing, nothing to disconnect.");
        const ended = unwrap(await session.client.api.POST("/v1/sessions/{id}/disconnect", { params: { path: { id: live.id } } }));
        const [workspace, plan] = await Promise.all([workspaceOrNull(session), planOf(session, ended.planId)]);
        const billed = billedMs(ended);
        const cost = plan ? costCents(billed, plan.pricePerHourCents) : null;
        const data = { session: ended, billedMs: billed, costCents: cost === null ? null : Math.round(cost * 100) / 100, workspace };
        const lines = [
          `Disconnected: billing stopped${ended.endedAt ? ` at ${when(ended.endedAt)}` : ""} (${duration(billed)} billed${cost !== null ? `, about ${money(cost)}` : ""}).`,
          ...keptLines(workspace),
        ];
        return { data, lines };
      }),
    );

  program
    .command("destroy")
    .description("Delete your workspace and every file in it, on its host and in cold storage (ends a running session)")
    .option("--yes", "do not ask: delete it")
    .addHelpText("after", "\nExample:\n  ozekai destroy            # asks you to type your username\n  ozekai destroy --yes      # scripts")
    .action((options, command) =>
      run(command, async ({ out, globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const workspace = await workspaceOrNull(session);
        if (!workspace) throw new CliError("not_found", "You have no workspace: nothing to destroy.");
        const what = [`This deletes your workspace ${workspace.id} (${workspace.state}, ${bytes(workspace.sizeBytes)}) and every file in it, for good:`];
        if (workspace.state === "hot") what.push("  - its volume on the GPU host");
        if (workspace.state === "cold") what.push("  - its copy in cold storage");
        if (workspace.state === "archiving") what.push("  - its volume on the GPU host, and the copy to cold storage being made (cancelled)");
        if (workspace.state === "restoring") what.push("  - its copy in cold storage, and what was restored of it so far");
        if (workspace.session) what.push(`Your ${workspace.session.state} session ${workspace.session.id} ends first: its container is removed and billing stops.`);
        for (const line of what) out.note(line);
        if (!options.yes) {
          const account = unwrap(await session.client.api.GET("/v1/account"));
          const typed = await askText(`Type your username (${account.username}) to delete it`, "--yes");
          if (typed !== account.username) throw new CliError("error", "Not deleted: that is not your username.");
        }
        const deleted = unwrap(await session.client.api.DELETE("/v1/workspace"));
        return {
          data: { workspace: deleted, endedSession: workspace.session },
          lines: [`Destroyed: workspace ${deleted.id} is deleted, on its host and in cold storage.${workspace.session ? " Your session ended; nothing is billing." : ""}`],
        };
      }),
    );

  program
    .command("status")
    .description("Your session (uptime, cost, GPU, CPU, memory), workspace, this month's usage and billing")
    .option("--watch", `redraw every ${WATCH_MS / 1000} s until Ctrl-C (a terminal only, not with --json)`)
    .addHelpText("after", "\nExample:\n  ozekai status --watch")
    .action((options, command) =>
      run(command, async ({ globals }) => {
        if (options.watch && globals.json) throw new CliError("usage", "--watch redraws for a person; with --json, run `ozekai status --json` as often as you need.");
        if (options.watch && !process.stdout.isTTY) throw new CliError("usage", "--watch needs a terminal on stdout; run `ozekai status` instead.");
        const session = openSession(globals);
        await session.requireSignIn();
        if (!options.watch) return statusReport(session);
        process.once("SIGINT", () => process.exit(0));
        for (;;) {
          const { lines } = await statusReport(session);
          process.stdout.write(`\u001b[H\u001b[2J${lines.join("\n")}\n\n(every ${WATCH_MS / 1000} s · Ctrl-C to stop)\n`);
          await sleep(WATCH_MS);
        }
      }),
    );
}
