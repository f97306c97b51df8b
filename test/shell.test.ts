/**
 * The session shell through the Worker: a WebSocket bridged to the provisioner's shell (docker exec
 * with a TTY) in the user's running container. The token comes from Authorization (CLI) or, for
 * browsers, the subprotocol `bearer.<token>`; never from the URL.
 */
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem } from "./harness";
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
