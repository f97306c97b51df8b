/**
 * `GET /v1/sessions/{id}/ports/{port}` through the Worker and the real provisioner: one TCP
 * connection to a server started in the container, the session's `ports` record, the same
 * sign-in rules as the shell.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SESSION_SOCKET_CLOSE } from "../workers/api/session-sockets";
import { MAX_FORWARDED_PORTS } from "../workers/domain/sessions";
import { call, createUser, expectProblem, testEnv, type TestUser } from "./harness";
import { track } from "./provisioner-harness";
import { openSessionSocket, runExec, runningSession, upgrade, within } from "./socket-harness";
import { rawCall } from "./transfer-harness";

const portPath = (sessionId: string, port: number | string) => `/v1/sessions/${sessionId}/ports/${port}`;

/** Starts busybox httpd in the container (detached: the exec that starts it exits) and waits until it listens. */
async function startHttpd(user: TestUser, sessionId: string, port: number) {
  const started = await runExec(user, sessionId, ["sh", "-c", `mkdir -p /tmp/www && echo hello-from-the-container > /tmp/www/index.html && httpd -p ${port} -h /tmp/www`]);
  expect(started.exitCode, started.stderr).toBe(0);
  const deadline = Date.now() + 5_000;
  while ((await runExec(user, sessionId, ["sh", "-c", `netstat -ltn | grep -q ':${port} '`])).exitCode !== 0) {
    if (Date.now() > deadline) throw new Error(`httpd does not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One HTTP/1.0 request over a forward: the answer, and the close after it. */
async function fetchOver(user: TestUser, sessionId: string, port: number, env?: Cloudflare.Env) {
  const { ws, closed } = await openSessionSocket(user.accessToken, portPath(sessionId, port), env);
  let answer = "";
  const decoder = new TextDecoder();
  ws.addEventListener("message", (event) => {
    answer += decoder.decode(event.data as ArrayBuffer, { stream: true });
  });
  ws.send(new TextEncoder().encode("GET /index.html HTTP/1.0\r\nHost: localhost\r\n\r\n"));
  const close = await within(closed, 10_000);
  return { answer, close };
}

const portsOf = async (user: TestUser, sessionId: string) => (await call("GET", `/v1/sessions/${sessionId}`, { token: user.accessToken })).json.ports;

describe("port forward: one TCP connection to a port of the container", () => {
  it("round-trips an HTTP request to a server in the container; the session records the port once", async () => {
    const { user, sessionId } = await runningSession();
    expect(await portsOf(user, sessionId)).toEqual([]);
    await startHttpd(user, sessionId, 8000);
    const first = await fetchOver(user, sessionId, 8000);
    expect(first.answer).toMatch(/^HTTP\/1\.[01] 200/);
    expect(first.answer).toContain("hello-from-the-container");
    expect(first.close).toMatchObject({ code: 1000, reason: "the container closed the connection" });
    await fetchOver(user, sessionId, 8000);
    expect(await portsOf(user, sessionId)).toEqual([{ name: "forward", port: 8000 }]);
  });

  it("a port nothing listens on is 409 port_closed, and is not recorded", async () => {
    const { user, sessionId } = await runningSession();
    const res = await rawCall("GET", portPath(sessionId, 8123), { token: user.accessToken, headers: upgrade() });
    expect(res.status).toBe(409);
    expect(res.webSocket).toBeNull();
    expect(res.json).toMatchObject({ code: "port_closed", detail: expect.stringContaining("8123") });
    expect(await portsOf(user, sessionId)).toEqual([]);
  });

  it("a bad port is a 400 problem naming the field", async () => {
    const { user, sessionId } = await runningSession();
    for (const port of ["0", "65536", "080", "-1", "http", "1e3", "8000.5", "99999999999"]) {
      const res = await rawCall("GET", portPath(sessionId, port), { token: user.accessToken, headers: upgrade() });
      expect(res.status, port).toBe(400);
      expect(res.json.code).toBe("validation_failed");
      expect(res.json.errors[0].field).toBe("port");
    }
  });

  it("only the owner's running session: someone else's is 404, an ended one 409, a plain GET 426", async () => {
    const { user, sessionId } = await runningSession();
    const stranger = track(await createUser());
    const theirs = await rawCall("GET", portPath(sessionId, 8000), { token: stranger.accessToken, headers: upgrade() });
    expect(theirs.status).toBe(404);
    expect(theirs.json.code).toBe("not_found");
    expect((await rawCall("GET", portPath(crypto.randomUUID(), 8000), { token: user.accessToken, headers: upgrade() })).status).toBe(404);
    expectProblem(await call("GET", portPath(sessionId, 8000), { token: user.accessToken }), 426, "upgrade_required");
    expect((await call("POST", `/v1/sessions/${sessionId}/disconnect`, { token: user.accessToken })).status).toBe(200);
    const ended = await rawCall("GET", portPath(sessionId, 8000), { token: user.accessToken, headers: upgrade() });
    expect(ended.status).toBe(409);
    expect(ended.json.code).toBe("not_connected");
  });

  it(`records at most ${MAX_FORWARDED_PORTS} different ports: another is 409 too_many_ports, a recorded one still forwards`, async () => {
    const { user, sessionId } = await runningSession();
    await startHttpd(user, sessionId, 8000);
    const full = [8000, ...Array.from({ length: MAX_FORWARDED_PORTS - 1 }, (_, i) => 20_000 + i)].map((port) => ({ name: "forward", port }));
    await env.DB.prepare("update sessions set ports = ? where id = ?").bind(JSON.stringify(full), sessionId).run();
    const refused = await rawCall("GET", portPath(sessionId, 8001), { token: user.accessToken, headers: upgrade() });
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe("too_many_ports");
    expect((await fetchOver(user, sessionId, 8000)).answer).toContain("hello-from-the-container");
    expect(await portsOf(user, sessionId)).toEqual(full);
  });

  it("logout closes an open forward within seconds (4401)", async () => {
    const { user, sessionId } = await runningSession();
    await startHttpd(user, sessionId, 8000);
    const fast = { ...testEnv(), SHELL_SIGN_IN_CHECK_SECONDS: "1" } as unknown as Cloudflare.Env;
    const { ws, closed } = await openSessionSocket(user.accessToken, portPath(sessionId, 8000), fast);
    // Half a request: the server waits for the rest, so only the logout can end the connection.
    ws.send(new TextEncoder().encode("GET / HTTP/1.0\r\n"));
    expect((await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken })).status).toBe(204);
    expect(await within(closed, 5_000)).toMatchObject({ code: SESSION_SOCKET_CLOSE.signInEnded });
  });
});
