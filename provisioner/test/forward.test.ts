/**
 * The port socket against real Docker: one TCP connection to a server started inside the session
 * container, reached on its tenant network (no host port published), closed both ways.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { SOCKET_CLOSE } from "../../contract/provisioner.ts";
import type { HostMetrics } from "../src/metrics.ts";
import { closeSockets, docker, openSocket, startSession, startTestProvisioner, type TestProvisioner, tracker } from "./harness.ts";

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

const portPath = (sessionId: string, port: number | string) => `/v1/containers/${sessionId}/ports/${port}`;

/** Starts a detached server in the container (as its user) and waits until the port accepts. */
async function serve(containerId: string, script: string, port: number) {
  const exec = await docker.getContainer(containerId).exec({ Cmd: ["sh", "-c", script], User: "1000:1000", AttachStdout: false, AttachStderr: false });
  await exec.start({ Detach: true });
  const deadline = Date.now() + 5_000;
  for (;;) {
    const probe = await docker.getContainer(containerId).exec({ Cmd: ["sh", "-c", `netstat -ltn | grep -q ':${port} '`], AttachStdout: true });
    const stream = await probe.start({ hijack: true });
    await new Promise((resolve) => stream.on("end", resolve).resume());
    if ((await probe.inspect()).ExitCode === 0) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function received(ws: WebSocket) {
  const chunks: Buffer[] = [];
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(true);
    chunks.push(data);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString("utf8") })));
  return { text: () => Buffer.concat(chunks).toString("utf8"), closed };
}

describe("port forward: one TCP connection into the container", () => {
  it("round-trips bytes with a server in the container (its own network, no published port)", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    await serve(containerId, "httpd -f -p 8000 -h /tmp", 8000);
    const ws = await openSocket(provisioner, portPath(sessionId, 8000), open);
    const reply = received(ws);
    ws.send(Buffer.from("GET /nothing-here HTTP/1.0\r\nHost: x\r\n\r\n"));
    // HTTP/1.0: the server answers, then closes its side; the socket closes cleanly after the bytes.
    const close = await reply.closed;
    expect(reply.text()).toMatch(/^HTTP\/1\.[01] 404/);
    expect(close).toMatchObject({ code: 1000, reason: "the container closed the connection" });
    const info = await docker.getContainer(containerId).inspect();
    expect(info.HostConfig.PortBindings ?? {}).toEqual({});
    expect(Object.values(info.NetworkSettings.Ports ?? {}).every((bindings) => !bindings)).toBe(true);
  });

  it("half-closes on the client's eof: the container reads to its end and still answers", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    // Counts what it reads until EOF, then answers: only a half-close lets the answer through.
    await serve(containerId, "nc -l -p 8001 -e sh -c 'n=$(wc -c); echo \"got $n\"'", 8001);
    const ws = await openSocket(provisioner, portPath(sessionId, 8001), open);
    const reply = received(ws);
    ws.send(Buffer.from("a".repeat(100_000)));
    ws.send(JSON.stringify({ type: "eof" }));
    expect((await reply.closed).code).toBe(1000);
    expect(reply.text().trim()).toBe("got 100000");
  });

  it("closing the socket closes the TCP connection: the server sees its client go", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    // The server writes what it read to a file, and a line once its client has gone.
    await serve(containerId, "nc -l -p 8002 -e sh -c 'cat > /tmp/got; echo gone >> /tmp/got'", 8002);
    const ws = await openSocket(provisioner, portPath(sessionId, 8002), open);
    ws.send(Buffer.from("hello\n"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    ws.close(1000);
    const read = async () => {
      const exec = await docker.getContainer(containerId).exec({ Cmd: ["cat", "/tmp/got"], AttachStdout: true, Tty: true });
      const stream = await exec.start({ hijack: true, Tty: true });
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    };
    const deadline = Date.now() + 5_000;
    while (!(await read()).includes("gone") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await read()).replace(/\r/g, "")).toBe("hello\ngone\n");
  });

  it("a port nothing listens on is refused before the upgrade: 409 port_closed with a reason", async () => {
    const { sessionId } = await startSession(provisioner, made);
    const refused = openSocket(provisioner, portPath(sessionId, 8003), open);
    await expect(refused).rejects.toMatchObject({ status: 409 });
    const body = JSON.parse(((await refused.catch((error: { body: string }) => error)) as { body: string }).body);
    expect(body).toMatchObject({ code: "port_closed", detail: "nothing listens on port 8003" });
  });

  it("the server resetting the connection closes the socket with 4502 and a reason", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    // A server that exits without reading what it was sent: its kernel answers with a reset, not a FIN.
    await serve(containerId, "nc -l -p 8004 -e sleep 1", 8004);
    const ws = await openSocket(provisioner, portPath(sessionId, 8004), open);
    const reply = received(ws);
    ws.send(Buffer.from("unread bytes\n"));
    expect(await reply.closed).toEqual({ code: SOCKET_CLOSE.upstreamFailed, reason: "the container reset the connection" });
  });

  it("an open forward and an open exec count as attached in the metrics, for the idle check", async () => {
    const { sessionId, containerId } = await startSession(provisioner, made);
    await serve(containerId, "httpd -f -p 8005 -h /tmp", 8005);
    const attached = async () => {
      const metrics = (await (await provisioner.request("GET", "/v1/metrics")).json()) as HostMetrics;
      return metrics.containers.find((c) => c.sessionId === sessionId)?.shell.attached;
    };
    const forward = await openSocket(provisioner, portPath(sessionId, 8005), open);
    const exec = await openSocket(provisioner, `/v1/containers/${sessionId}/exec`, open);
    const started = new Promise((resolve) => exec.once("message", resolve));
    exec.send(JSON.stringify({ type: "start", argv: ["sh", "-c", "echo up; sleep 30"] }));
    await started;
    expect(await attached()).toBe(2);
    forward.close();
    exec.close();
    const deadline = Date.now() + 5_000;
    while ((await attached()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await attached()).toBe(0);
  });

  it("validates the port, checks the token, refuses a container that does not run", async () => {
    const { sessionId } = await startSession(provisioner, made);
    for (const port of ["0", "65536", "080", "-1", "http", "1e3", ""]) {
      await expect(openSocket(provisioner, portPath(sessionId, port), open), port).rejects.toMatchObject({ status: 400 });
    }
    await expect(openSocket(provisioner, portPath(sessionId, 8000), open, await provisioner.token("GET", portPath(sessionId, 8001)))).rejects.toMatchObject({ status: 401 });
    expect((await provisioner.request("GET", portPath(sessionId, 8000))).status).toBe(426);
    expect((await provisioner.request("POST", `/v1/containers/${sessionId}/stop`)).status).toBe(200);
    await expect(openSocket(provisioner, portPath(sessionId, 8000), open)).rejects.toMatchObject({ status: 409 });
  });
});
