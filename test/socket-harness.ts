/**
 * Helpers for the session sockets through the Worker (exec, port forwards): open one as a CLI
 * does (Authorization header), speak the exec frames, wait with a bound.
 */
import { expect } from "vitest";
import { EXEC_CHANNEL } from "../contract/provisioner";
import type { TestUser } from "./harness";
import { connect, entitledUser } from "./provisioner-harness";
import { rawCall } from "./transfer-harness";

export const upgrade = (protocols?: string) => ({ Upgrade: "websocket", ...(protocols ? { "Sec-WebSocket-Protocol": protocols } : {}) });

export const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);

export async function runningSession() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, sessionId: session.json.id as string };
}

/** A session socket, accepted; `closed` settles with the close the client sees. */
export async function openSessionSocket(token: string, path: string, env?: Cloudflare.Env) {
  const res = await rawCall("GET", path, { token, headers: upgrade(), env });
  expect(res.status, res.text).toBe(101);
  const ws = res.webSocket!;
  ws.binaryType = "arraybuffer";
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
  ws.accept();
  return { ws, closed };
}

/** An exec as the CLI drives it: start, stdin, EOF; what comes back, by channel. */
export async function openExec(token: string, sessionId: string, argv: string[], env?: Cloudflare.Env) {
  const socket = await openSessionSocket(token, `/v1/sessions/${sessionId}/exec`, env);
  const out = { stdout: "", stderr: "", exitCode: undefined as number | undefined };
  const decoder = { [EXEC_CHANNEL.stdout]: new TextDecoder(), [EXEC_CHANNEL.stderr]: new TextDecoder() } as Record<number, TextDecoder>;
  socket.ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      out.exitCode = (JSON.parse(event.data) as { exitCode: number }).exitCode;
      return;
    }
    const frame = new Uint8Array(event.data as ArrayBuffer);
    const text = decoder[frame[0]!]?.decode(frame.subarray(1), { stream: true }) ?? "";
    if (frame[0] === EXEC_CHANNEL.stdout) out.stdout += text;
    if (frame[0] === EXEC_CHANNEL.stderr) out.stderr += text;
  });
  socket.ws.send(JSON.stringify({ type: "start", argv }));
  return {
    ...socket,
    out,
    stdin: (text: string) => socket.ws.send(new Uint8Array([EXEC_CHANNEL.stdin, ...new TextEncoder().encode(text)])),
    eof: () => socket.ws.send(JSON.stringify({ type: "eof" })),
    /** Resolves once the output matches (or fails after a while). */
    async until(pattern: RegExp, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(out.stdout) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(out.stdout).toMatch(pattern);
    },
  };
}

/** Runs one command to its end and returns its output, exit status and close. */
export async function runExec(user: TestUser, sessionId: string, argv: string[], stdin?: string) {
  const exec = await openExec(user.accessToken, sessionId, argv);
  if (stdin !== undefined) exec.stdin(stdin);
  exec.eof();
  const close = await within(exec.closed, 15_000);
  return { ...exec.out, close };
}
