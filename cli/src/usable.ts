/**
 * Whether a running session's container really runs a command: one `true` through the exec socket
 * (GET /v1/sessions/{id}/exec, docs/decisions/0022-exec-transport.md), the path a shell or an exec
 * takes next. The API's `running` means Docker started the container; this proves the rest of the
 * way (the Worker's socket route, the host's exec, the container's process table) answers too.
 */

export type Probe = { ok: true } | { ok: false; reason: string };

export function runsACommand(apiUrl: string, sessionId: string, token: string, timeoutMs: number): Promise<Probe> {
  const url = new URL(`/v1/sessions/${encodeURIComponent(sessionId)}/exec`, apiUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve) => {
    let settled = false;
    // Node's WebSocket (undici) takes a WebSocketInit with headers; the DOM typing knows only protocols.
    const init = { headers: { Authorization: `Bearer ${token}` } } as unknown as string[];
    const socket = new WebSocket(url, init);
    const finish = (probe: Probe) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(probe);
    };
    const timer = setTimeout(() => finish({ ok: false, reason: "no answer in time" }), timeoutMs);
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ type: "start", argv: ["true"] }));
      socket.send(JSON.stringify({ type: "eof" }));
    });
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") return; // the command's output: `true` has none
      try {
        const frame = JSON.parse(event.data) as { type?: string; exitCode?: number };
        if (frame.type === "exit") finish(frame.exitCode === 0 ? { ok: true } : { ok: false, reason: `a test command exited with ${frame.exitCode}` });
      } catch {
        // not a control frame we know: wait for the exit
      }
    });
    socket.addEventListener("error", () => finish({ ok: false, reason: "the container's exec socket refused the connection" }));
    socket.addEventListener("close", (event) => finish({ ok: false, reason: `the exec socket closed (${event.code}${event.reason ? `: ${event.reason}` : ""})` }));
  });
}
