/**
 * The session shell through the Worker: a WebSocket bridged to the provisioner's shell (docker exec
 * with a TTY) in the user's running container. The token comes from Authorization (CLI) or, for
 * browsers, the subprotocol `bearer.<token>`; never from the URL.
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { SESSION_SOCKET_CLOSE as SHELL_CLOSE } from "../workers/api/session-sockets";
import { SIGN_IN_CACHE_MS } from "../workers/domain/accounts";
import { call, createUser, expectProblem, testEnv } from "./harness";
import { connect, entitledUser, track } from "./provisioner-harness";
import { rawCall } from "./transfer-harness";

const upgrade = (protocols?: string) => ({ Upgrade: "websocket", ...(protocols ? { "Sec-WebSocket-Protocol": protocols } : {}) });

/** Collects the terminal's output until it matches, or fails after a while. */
function terminal(ws: WebSocket) {
  let output = "";
  const decoder = new TextDecoder();
  const waiters: { pattern: RegExp; resolve: (text: string) => void }[] = [];
  ws.binaryType = "arraybuffer";
  ws.addEventListener("message", (event) => {
    output += typeof event.data === "string" ? event.data : decoder.decode(event.data as ArrayBuffer, { stream: true });
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(output);
      }
    }
  });
  return {
    send: (text: string) => ws.send(new TextEncoder().encode(text)),
    until: (pattern: RegExp, ms = 15_000) =>
      new Promise<string>((resolve, reject) => {
        if (pattern.test(output)) return resolve(output);
        waiters.push({ pattern, resolve });
        setTimeout(() => reject(new Error(`no ${pattern} in: ${JSON.stringify(output)}`)), ms);
      }),
  };
}

async function runningSession() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, sessionId: session.json.id as string };
}

describe("the shell WebSocket", () => {
  it("bridges a terminal: a browser's token in the subprotocol, echo round trip and resize", async () => {
    const { user, sessionId } = await runningSession();
    const res = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { headers: upgrade(`ozekai.v1, bearer.${user.accessToken}`) });
    expect(res.status, res.text).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("ozekai.v1");
    const ws = res.webSocket!;
    ws.accept();
    const term = terminal(ws);
    term.send("echo hello-$((6*7))\n");
    await term.until(/hello-42/);
    ws.send(JSON.stringify({ type: "resize", cols: 123, rows: 45 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    term.send("stty size\n");
    await term.until(/45 123/);
    term.send("pwd\n");
    await term.until(/\/workspace/);
    ws.close(1000, "done");
  });

  it("takes the CLI's Authorization header too", async () => {
    const { user, sessionId } = await runningSession();
    const res = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { token: user.accessToken, headers: upgrade() });
    expect(res.status, res.text).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const term = terminal(ws);
    term.send("echo cli-$((2+3))\n");
    await term.until(/cli-5/);
    ws.close(1000);
  });

  it("refuses a missing or bad token with 401 before any upgrade", async () => {
    const { user, sessionId } = await runningSession();
    const path = `/v1/sessions/${sessionId}/shell`;
    for (const headers of [upgrade(), upgrade("ozekai.v1"), upgrade("ozekai.v1, bearer.garbage"), upgrade(`ozekai.v1, bearer.${user.refreshToken}`), { ...upgrade(), Authorization: "Bearer nope" }]) {
      const res = await rawCall("GET", path, { headers });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.webSocket).toBeNull();
      expect(res.json.code).toBe("unauthorized");
    }
    // A token in the query string is not a way in (it would be logged).
    const query = await rawCall("GET", `${path}?access_token=${user.accessToken}`, { headers: upgrade() });
    expect(query.status).toBe(401);
  });

  it("someone else's session is 404, and a session that does not run is 409", async () => {
    const { user, sessionId } = await runningSession();
    const stranger = track(await createUser());
    const res = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { headers: upgrade(`ozekai.v1, bearer.${stranger.accessToken}`) });
    expect(res.status).toBe(404);
    expect(res.webSocket).toBeNull();
    expect(res.json.code).toBe("not_found");

    expectProblem(await call("GET", `/v1/sessions/${sessionId}/shell`, { token: user.accessToken }), 426, "upgrade_required");
    expect((await call("POST", `/v1/sessions/${sessionId}/disconnect`, { token: user.accessToken })).status).toBe(200);
    const ended = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { token: user.accessToken, headers: upgrade() });
    expect(ended.status).toBe(409);
    expect(ended.json.code).toBe("not_connected");
  });
});

describe("a shell stays tied to the sign-in that opened it", () => {
  const fastChecks = (extra: Record<string, string> = {}) => ({ ...testEnv(), SHELL_SIGN_IN_CHECK_SECONDS: "1", ...extra }) as unknown as Cloudflare.Env;

  async function openShell(token: string, sessionId: string, env: Cloudflare.Env) {
    const res = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { token, headers: upgrade(), env });
    expect(res.status, res.text).toBe(101);
    const ws = res.webSocket!;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
    ws.accept();
    return { ws, term: terminal(ws), closed };
  }

  const within = <T>(promise: Promise<T>, ms: number) =>
    Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms`)), ms))]);

  it("logout closes an open shell within seconds (code 4401), and what it ran is ended", async () => {
    const { user, sessionId } = await runningSession();
    const env = fastChecks();
    const shell = await openShell(user.accessToken, sessionId, env);
    shell.term.send("echo up-$((1+1)); sleep 987653\n");
    await shell.term.until(/up-2/);
    expect((await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken })).status).toBe(204);
    expect(await within(shell.closed, 5_000)).toMatchObject({ code: SHELL_CLOSE.signInEnded });

    // A new sign-in's shell finds no trace of the old one's job.
    const again = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password: user.password } });
    const next = await openShell(again.json.accessToken, sessionId, env);
    // Each probe prints a numbered count; the TTY's echo of the command cannot match `nN=<digit>`.
    const stillRunning = async (n: number) => {
      next.term.send(`echo "n${n}=$(ps -o args | grep -c '^sleep 98765[3]')"\n`);
      return new RegExp(`n${n}=(\\d)`).exec(await next.term.until(new RegExp(`n${n}=\\d`)))![1] !== "0";
    };
    let n = 0;
    const deadline = Date.now() + 10_000;
    while ((await stillRunning(++n)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stillRunning(++n)).toBe(false);
    next.ws.close(1000);
  });

  it("a sign-in revoked elsewhere (another isolate, straight in D1) closes the shell within seconds", async () => {
    const { user, sessionId } = await runningSession();
    const shell = await openShell(user.accessToken, sessionId, fastChecks());
    shell.term.send("echo up-$((2+2))\n");
    await shell.term.until(/up-4/);
    await env.DB.prepare("update login_sessions set revoked_at = ?, revoked_reason = 'test' where user_id = ?").bind(Date.now(), user.id).run();
    expect(await within(shell.closed, SIGN_IN_CACHE_MS + 4_000)).toMatchObject({ code: SHELL_CLOSE.signInEnded });
  });

  it("no shell outlives SHELL_MAX_LIFETIME_SECONDS: it closes with 4408 and the client reconnects", async () => {
    const { user, sessionId } = await runningSession();
    const env = fastChecks({ SHELL_MAX_LIFETIME_SECONDS: "2" });
    const shell = await openShell(user.accessToken, sessionId, env);
    shell.term.send("echo up-$((3+3))\n");
    await shell.term.until(/up-6/);
    const closed = await within(shell.closed, 6_000);
    expect(closed.code).toBe(SHELL_CLOSE.lifetimeReached);
    expect(closed.reason).toMatch(/reconnect/);
    const next = await openShell(user.accessToken, sessionId, env);
    next.term.send("echo again-$((4+4))\n");
    await next.term.until(/again-8/);
    next.ws.close(1000);
  });
});
