/**
 * Whether a running session's container really runs a command: one `true` through the exec socket
 * (GET /v1/sessions/{id}/exec, docs/decisions/0022-exec-transport.md), the path a shell or an exec
 * takes next. The API's `running` means Docker started the container; this proves the rest of the
 * way (the Worker's socket route, the host's exec, the container's process table) answers too.
 */
import { CliError } from "./errors.ts";
import type { Session } from "./session.ts";
import { closeMessage, openSessionSocket } from "./session-sockets.ts";

export type Probe = { ok: true } | { ok: false; reason: string };

export async function runsACommand(session: Session, sessionId: string, timeoutMs: number): Promise<Probe> {
  const until = Date.now() + timeoutMs;
  let ws: Awaited<ReturnType<typeof openSessionSocket>>;
  try {
    // The upgrade counts against the same time: a connect's --timeout bounds the whole wait.
    ws = await openSessionSocket(session, sessionId, "exec", timeoutMs);
  } catch (error) {
    // A sign-in that ended is the user's to fix; anything else may pass while the container starts.
    if (error instanceof CliError && error.kind === "not_signed_in") throw error;
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  return new Promise((resolve) => {
    const finish = (probe: Probe) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(probe);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: "no answer in time" }), Math.max(0, until - Date.now()));
    ws.send(JSON.stringify({ type: "start", argv: ["true"] }));
    ws.send(JSON.stringify({ type: "eof" }));
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) return; // the command's output: `true` has none
      try {
        const frame = JSON.parse(data.toString("utf8")) as { type?: string; exitCode?: number };
        if (frame.type === "exit") finish(frame.exitCode === 0 ? { ok: true } : { ok: false, reason: `a test command exited with ${frame.exitCode}` });
      } catch {
        // not a control frame we know: wait for the exit
      }
    });
    ws.once("close", (code, reason) => finish({ ok: false, reason: closeMessage(code, reason.toString("utf8")) }));
  });
}
