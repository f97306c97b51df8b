/**
 * Child processes, each in its own process group (wrangler leads workerd, so the whole group is
 * killed); every one is tracked until it is stopped, so run-bench.ts can stop what is left.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { HOST, ROOT } from "./settings.ts";
import { sleep } from "./time.ts";
const children = new Set<ChildProcess>();

/** The children started and not yet stopped. */
export const liveChildren = () => [...children];

export interface Started {
  child: ChildProcess;
  output: { text: string };
  exited: Promise<number | null>;
}

/** Starts `command args` in its own process group; output is kept (bounded) for error reports. */
export function startProcess(command: string, args: string[], env: Record<string, string | undefined>): Started {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const output = { text: "" };
  const decoder = new TextDecoder();
  const keep = (chunk: Uint8Array) => {
    output.text = (output.text + decoder.decode(chunk, { stream: true })).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (error) => {
      output.text += `\n(spawn failed: ${error.message})`;
      resolve(null);
    });
    child.on("exit", (code) => resolve(code));
  });
  return { child, output, exited };
}

/** Waits for `started` to exit, killing its group after `timeoutMs`; its exit code (null: a signal or no start). */
export async function waitExit(started: Started, timeoutMs: number): Promise<number | null> {
  const timer = setTimeout(() => killGroup(started.child, "SIGKILL"), timeoutMs);
  const code = await started.exited.finally(() => clearTimeout(timer));
  children.delete(started.child);
  return code;
}

export function killGroup(child: ChildProcess, signal: "SIGTERM" | "SIGKILL") {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // detached: the child leads its own group (wrangler + workerd)
  } catch {
    // already gone
  }
}

export async function stopChild(child: ChildProcess, graceMs = 5000) {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    killGroup(child, "SIGTERM"); // graceful: miniflare removes its temp files (local emails) on exit
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
  // The group may outlive its leader (workerd); make sure nothing of it is left.
  killGroup(child, "SIGKILL");
  children.delete(child);
}

/** Kills every live child's group at once, by force (the last resort of cleanup). */
export function killChildrenSync() {
  for (const child of children) {
    killGroup(child, "SIGTERM");
    killGroup(child, "SIGKILL");
  }
  children.clear();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

/** Polls `url` until it answers 200; fails when `started` exits first or after `timeoutMs`. */
export async function waitHealthy(url: string, started: Started, what: string, timeoutMs = 90_000) {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void started.exited.then(() => {
    exited = true;
  });
  while (performance.now() < deadline) {
    if (exited) throw new Error(`${what} exited early:\n${started.output.text.slice(-4000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.text();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${started.output.text.slice(-4000)}`);
}
