/**
 * The exec socket against real Docker: one command without a terminal, stdout and stderr apart,
 * stdin to an EOF, the exit status last; and nothing of it left in the container once the bridge closes.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { EXEC_LIMITS, SOCKET_CLOSE } from "../../contract/provisioner.ts";
import { closeSockets, execIn, openSocket, startSession, startTestProvisioner, type TestProvisioner, tracker } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();
const open: WebSocket[] = [];

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(async () => {
  closeSockets(open);
  await made.cleanup();
});
afterAll(() => provisioner.close());

const execPath = (sessionId: string) => `/v1/containers/${sessionId}/exec`;
const stdin = (text: string) => Buffer.concat([Buffer.of(0), Buffer.from(text)]);
const start = (argv: unknown) => JSON.stringify({ type: "start", argv });
const EOF = JSON.stringify({ type: "eof" });

/** What an exec socket delivers until it closes. */
function collect(ws: WebSocket) {
  const out = { stdout: "", stderr: "", exit: undefined as unknown, frames: [] as string[] };
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (!isBinary) {
      out.frames.push("exit");
      out.exit = JSON.parse(data.toString("utf8"));
      return;
    }
    const channel = data[0];
    out.frames.push(channel === 1 ? "stdout" : channel === 2 ? "stderr" : `channel ${channel}`);
    if (channel === 1) out.stdout += data.subarray(1).toString("utf8");
    if (channel === 2) out.stderr += data.subarray(1).toString("utf8");
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })));
  return { out, closed };
}

async function run(sessionId: string, argv: string[], input?: string) {
  const ws = await openSocket(provisioner, execPath(sessionId), open);
  const { out, closed } = collect(ws);
  ws.send(start(argv));
  if (input !== undefined) ws.send(stdin(input));
  ws.send(EOF);
  const close = await closed;
  return { ...out, close };
}

describe("exec: one command, no terminal", () => {
  it("keeps stdout and stderr apart and ends with the exit status, non-zero included", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const result = await run(sessionId, ["sh", "-c", "echo to-out; echo to-err >&2; exit 7"]);
    expect(result.stdout).toBe("to-out\n");
    expect(result.stderr).toBe("to-err\n");
    expect(result.exit).toEqual({ type: "exit", exitCode: 7 });
    expect(result.frames.at(-1)).toBe("exit");
    expect(result.close.code).toBe(1000);
  });

  it("passes argv as it is: no shell reads it, no terminal is given", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const result = await run(sessionId, ["printf", "[%s]", "a b", "$HOME", "*", "; rm -rf /"]);
    expect(result.stdout).toBe("[a b][$HOME][*][; rm -rf /]");
    expect((await run(sessionId, ["sh", "-c", "test -t 0 || test -t 1 && echo tty || echo no-tty"])).stdout).toBe("no-tty\n");
  });

  it("runs as the workspace user in /workspace", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const result = await run(sessionId, ["sh", "-c", 'echo "$(id -u) $(pwd)"']);
    expect(result.stdout).toBe("1000 /workspace\n");
    expect(result.exit).toEqual({ type: "exit", exitCode: 0 });
  });

  it("carries stdin to an EOF: cat gets every byte and ends", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const ws = await openSocket(provisioner, execPath(sessionId), open);
    const { out, closed } = collect(ws);
    ws.send(start(["sh", "-c", "wc -c; echo done >&2"]));
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; i < 16; i++) ws.send(stdin(chunk));
    // Until the EOF the command keeps reading.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(out.exit).toBeUndefined();
    ws.send(EOF);
    expect((await closed).code).toBe(1000);
    expect(out.stdout.trim()).toBe(String(16 * 64 * 1024));
    expect(out.stderr).toBe("done\n");
    expect(out.exit).toEqual({ type: "exit", exitCode: 0 });
  });

  it("a program that does not exist: Docker's message and a non-zero status", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const result = await run(sessionId, ["no-such-program-here"]);
    // Docker 20.10 sends it as the command's stdout, later versions on their system-error stream (our stderr).
    expect(result.stdout + result.stderr).toMatch(/executable file not found/);
    expect((result.exit as { exitCode: number }).exitCode).toBeGreaterThan(0);
  });

  it("a command killed by a signal reports 128 + n", async () => {
    const { sessionId } = await startSession(provisioner, made);
    expect((await run(sessionId, ["sh", "-c", "kill -9 $$"])).exit).toEqual({ type: "exit", exitCode: 137 });
  });

  it("ends the command when the bridge closes first: nothing of it is left in the container", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    const ws = await openSocket(provisioner, execPath(sessionId), open);
    const { out } = collect(ws);
    ws.send(start(["sh", "-c", "sleep 987661 & echo started; sleep 987662"]));
    const deadline = Date.now() + 5_000;
    while (!out.stdout.includes("started") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    const jobs = async () => (await execIn(containerId, ["ps", "-o", "args"])).split("\n").filter((line) => /sleep 98766[12]/.test(line)).map((line) => line.trim());
    expect((await jobs()).sort()).toEqual(["sleep 987661", "sleep 987662"]);
    ws.close(1000);
    const ended = Date.now() + 10_000;
    while ((await jobs()).length > 0 && Date.now() < ended) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await jobs()).toEqual([]);
  });

  it("refuses a bad start frame with 4400 and a reason that does not repeat the command", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const cases: [unknown, RegExp][] = [
      [[], /argv/],
      [[""], /argv/],
      [["echo", "a\u0000b"], /NUL/],
      [Array(EXEC_LIMITS.args + 1).fill("x"), /argv/],
      [["echo", "secret-".repeat(5000)], /bytes/],
      [Array(8).fill("y".repeat(EXEC_LIMITS.argBytes)), /bytes in all/],
      ["echo hi", /argv/],
    ];
    for (const [argv, reason] of cases) {
      const ws = await openSocket(provisioner, execPath(sessionId), open);
      const { closed } = collect(ws);
      ws.send(start(argv));
      const close = await closed;
      expect(close.code, JSON.stringify(argv).slice(0, 40)).toBe(SOCKET_CLOSE.protocolError);
      expect(close.reason).toMatch(reason);
      expect(close.reason).not.toMatch(/secret|echo/);
    }
    // A binary frame first, and stdin on another channel, break the protocol too.
    const binaryFirst = await openSocket(provisioner, execPath(sessionId), open);
    const first = collect(binaryFirst);
    binaryFirst.send(stdin("x"));
    expect((await first.closed).code).toBe(SOCKET_CLOSE.protocolError);
    const wrongChannel = await openSocket(provisioner, execPath(sessionId), open);
    const second = collect(wrongChannel);
    wrongChannel.send(start(["cat"]));
    wrongChannel.send(Buffer.from([1, 65]));
    expect((await second.closed).code).toBe(SOCKET_CLOSE.protocolError);
  });

  it("checks the token before upgrading, and refuses a container that does not run", async () => {
    const { sessionId } = await startSession(provisioner, made);
    await expect(openSocket(provisioner, execPath(sessionId), open, await provisioner.token("GET", `/v1/containers/${sessionId}/shell`))).rejects.toMatchObject({ status: 401 });
    await expect(openSocket(provisioner, execPath("t-no-such-session"), open)).rejects.toMatchObject({ status: 404 });
    expect((await provisioner.request("GET", execPath(sessionId))).status).toBe(426);
    expect((await provisioner.request("POST", `/v1/containers/${sessionId}/stop`)).status).toBe(200);
    await expect(openSocket(provisioner, execPath(sessionId), open)).rejects.toMatchObject({ status: 409 });
  });
});
