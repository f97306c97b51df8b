import type { IncomingMessage } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { HostMetrics } from "../src/metrics.ts";
import { closeSockets, cpuPlan, docker, execIn, openSocket, startTestProvisioner, type TestProvisioner, tracker, WORKSPACE_IMAGE } from "./harness.ts";

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

async function runningSession(start = true) {
  const ids = made.session();
  const response = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan, start } });
  expect(response.status).toBe(201);
  return ids;
}

const shellPath = (sessionId: string) => `/v1/containers/${sessionId}/shell`;

const connect = (sessionId: string, token?: string) => openSocket(provisioner, shellPath(sessionId), open, token);

/** Collects the terminal's output until it matches, or fails after a while. */
function waitForOutput(ws: WebSocket, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in shell output: ${JSON.stringify(output)}`)), timeoutMs);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      expect(isBinary).toBe(true);
      output += data.toString("utf8");
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    });
  });
}

describe("shell WebSocket bridged to docker exec with a TTY", () => {
  it("runs a command: echo hello comes back", async () => {
    const { sessionId } = await runningSession();
    const ws = await connect(sessionId);
    // $((6*7)) only becomes 42 when the shell runs it: the TTY's echo of the input cannot match.
    const output = waitForOutput(ws, /42hello/);
    ws.send(Buffer.from("echo $((6*7))hello\n"), { binary: true });
    expect(await output).toContain("42hello");
  });

  it("runs as the workspace user, never root", async () => {
    const { sessionId } = await runningSession();
    const ws = await connect(sessionId);
    const output = waitForOutput(ws, /as=\d+:\S+/);
    ws.send(Buffer.from('echo "as=$(id -u):$HOME"\n'), { binary: true });
    expect(await output).toContain("as=1000:/workspace");
  });

  it("resizes the terminal from a JSON text frame", async () => {
    const { sessionId } = await runningSession();
    const ws = await connect(sessionId);
    ws.send(JSON.stringify({ type: "resize", cols: 123, rows: 45 }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const output = waitForOutput(ws, /size=45 123/);
    ws.send(Buffer.from('echo "size=$(stty size)"\n'), { binary: true });
    expect(await output).toContain("size=45 123");
  });

  it("counts an attached shell in the metrics, for the idle check", async () => {
    const { sessionId } = await runningSession();
    const ws = await connect(sessionId);
    await waitForOutput(ws, /\$ /); // the prompt (a user's, not root's #): the shell is attached
    const attached = async () => {
      const metrics = (await (await provisioner.request("GET", "/v1/metrics")).json()) as HostMetrics;
      return metrics.containers.find((c) => c.sessionId === sessionId)?.shell;
    };
    expect(await attached()).toMatchObject({ attached: 1 });
    ws.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await attached()).toMatchObject({ attached: 0 });
  });

  it("hangs up the shell when the WebSocket closes: the shell and its foreground job end, a job that ignores hang-ups (nohup) lives on", async () => {
    const { sessionId } = await runningSession();
    const [container] = await docker.listContainers({ filters: { label: [`ozekai.session=${sessionId}`] } });
    const containerId = container!.Id;
    const ws = await connect(sessionId);
    const started = waitForOutput(ws, /shell-pid=\d+\r/);
    // The image has no nohup: ignoring SIGHUP and exec'ing is what nohup does.
    ws.send(Buffer.from("(trap '' HUP; exec sleep 987651) & echo shell-pid=$$ ; sleep 987652\n"), { binary: true });
    const shellPid = /shell-pid=(\d+)\r/.exec(await started)![1]!;
    const jobs = async () => (await execIn(containerId, ["ps", "-o", "args"])).split("\n").filter((line) => /sleep 98765[12]/.test(line)).map((line) => line.trim());
    const shellAlive = async () => (await execIn(containerId, ["sh", "-c", `test -d /proc/${shellPid} && echo alive || echo gone`])).trim();
    const deadline = Date.now() + 5_000;
    while ((await jobs()).length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await jobs()).sort()).toEqual(["sleep 987651", "sleep 987652"]);
    expect(await shellAlive()).toBe("alive");

    ws.close();
    const ended = Date.now() + 10_000;
    while ((await shellAlive()) !== "gone" && Date.now() < ended) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await shellAlive()).toBe("gone");
    expect(await jobs()).toEqual(["sleep 987651"]);
    // The container itself keeps running.
    expect((await docker.getContainer(containerId).inspect()).State.Running).toBe(true);
  });

  it("closes on an unknown control frame", async () => {
    const { sessionId } = await runningSession();
    const ws = await connect(sessionId);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.send(JSON.stringify({ type: "resize", cols: 0, rows: 9999 }));
    expect(await closed).toBe(1003);
  });

  it("checks the token before upgrading: none, or one for another path, gets 401", async () => {
    const { sessionId } = await runningSession();
    const ws = new WebSocket(`ws://127.0.0.1:${provisioner.address.port}${shellPath(sessionId)}`);
    open.push(ws);
    const status = await new Promise<number | undefined>((resolve) => {
      ws.once("unexpected-response", (_req, res: IncomingMessage) => resolve(res.statusCode));
      ws.once("open", () => resolve(101));
    });
    expect(status).toBe(401);
    await expect(connect(sessionId, await provisioner.token("GET", shellPath("another-session")))).rejects.toMatchObject({ status: 401 });
    await expect(connect(sessionId, await provisioner.token("POST", shellPath(sessionId)))).rejects.toMatchObject({ status: 401 });
  });

  it("answers 404 for an unknown session and 409 for a container that is not running", async () => {
    await expect(connect("t-no-such-session")).rejects.toMatchObject({ status: 404 });
    const { sessionId } = await runningSession(false);
    await expect(connect(sessionId)).rejects.toMatchObject({ status: 409 });
    const plain = await provisioner.request("GET", shellPath(sessionId));
    expect(plain.status).toBe(426);
  });
});
