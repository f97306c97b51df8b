/**
 * `GET /v1/sessions/{id}/exec` through the Worker and the real provisioner: one command, no
 * terminal, stdout and stderr apart, stdin to an EOF, the exit status to the client; the same
 * sign-in rules as the shell; the command line kept out of every log.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SESSION_SOCKET_CLOSE } from "../workers/api/session-sockets";
import { SIGN_IN_CACHE_MS } from "../workers/domain/accounts";
import { accessLogLines, call, createUser, expectProblem, testEnv } from "./harness";
import { track } from "./provisioner-harness";
import { openExec, runExec, runningSession, upgrade, within } from "./socket-harness";
import { rawCall } from "./transfer-harness";

const fastChecks = (extra: Record<string, string> = {}) => ({ ...testEnv(), SHELL_SIGN_IN_CHECK_SECONDS: "1", ...extra }) as unknown as Cloudflare.Env;

describe("exec: one command in the running container", () => {
  it("streams stdout and stderr apart and hands the exit status to the client", async () => {
    const { user, sessionId } = await runningSession();
    const result = await runExec(user, sessionId, ["sh", "-c", "echo out-$((6*7)); echo err-1 >&2; exit 3"]);
    expect(result).toMatchObject({ stdout: "out-42\n", stderr: "err-1\n", exitCode: 3, close: { code: 1000 } });
    expect(await runExec(user, sessionId, ["true"])).toMatchObject({ exitCode: 0, stdout: "" });
  });

  it("carries stdin to an EOF (ozekai exec -- cat < file), as the session's user in /workspace", async () => {
    const { user, sessionId } = await runningSession();
    const input = "line one\nline two\n".repeat(2000);
    const result = await runExec(user, sessionId, ["cat"], input);
    expect(result.stdout).toBe(input);
    expect(result.exitCode).toBe(0);
    expect((await runExec(user, sessionId, ["sh", "-c", 'echo "$(id -u) $(pwd)"'])).stdout).toBe("1000 /workspace\n");
  });

  it("a browser's token in the subprotocol works too", async () => {
    const { user, sessionId } = await runningSession();
    const res = await rawCall("GET", `/v1/sessions/${sessionId}/exec`, { headers: upgrade(`ozekai.v1, bearer.${user.accessToken}`) });
    expect(res.status, res.text).toBe(101);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("ozekai.v1");
    res.webSocket!.accept();
    res.webSocket!.close(1000);
  });

  it("a bad start frame is closed with 4400 by the host, through the Worker", async () => {
    const { user, sessionId } = await runningSession();
    const result = await runExec(user, sessionId, []);
    expect(result.close.code).toBe(SESSION_SOCKET_CLOSE.protocolError);
    expect(result.close.reason).toMatch(/argv/);
  });

  it("only the owner's running session: someone else's is 404, an unknown one 404, an ended one 409, a plain GET 426", async () => {
    const { user, sessionId } = await runningSession();
    const stranger = track(await createUser());
    const theirs = await rawCall("GET", `/v1/sessions/${sessionId}/exec`, { token: stranger.accessToken, headers: upgrade() });
    expect(theirs.status).toBe(404);
    expect(theirs.webSocket).toBeNull();
    expect(theirs.json.code).toBe("not_found");
    expect((await rawCall("GET", `/v1/sessions/${crypto.randomUUID()}/exec`, { token: user.accessToken, headers: upgrade() })).json.code).toBe("not_found");
    expectProblem(await call("GET", `/v1/sessions/${sessionId}/exec`, { token: user.accessToken }), 426, "upgrade_required");
    expect((await call("POST", `/v1/sessions/${sessionId}/disconnect`, { token: user.accessToken })).status).toBe(200);
    const ended = await rawCall("GET", `/v1/sessions/${sessionId}/exec`, { token: user.accessToken, headers: upgrade() });
    expect(ended.status).toBe(409);
    expect(ended.json.code).toBe("not_connected");
    expect(ended.json.detail).toMatch(/connect/);
  });

  it("logout closes an open exec within seconds (4401), and the command is ended", async () => {
    const { user, sessionId } = await runningSession();
    const exec = await openExec(user.accessToken, sessionId, ["sh", "-c", "echo up; sleep 987671"], fastChecks());
    await exec.until(/up/);
    expect((await call("POST", "/v1/auth/logout", { ip: user.ip, token: user.accessToken })).status).toBe(204);
    expect(await within(exec.closed, 5_000)).toMatchObject({ code: SESSION_SOCKET_CLOSE.signInEnded });
    expect(exec.out.exitCode).toBeUndefined();

    const again = await call("POST", "/v1/auth/login", { ip: user.ip, body: { login: user.username, password: user.password } });
    const next = { ...user, accessToken: again.json.accessToken as string };
    const count = async () => Number((await runExec(next, sessionId, ["sh", "-c", "ps -o args | grep -c '^sleep 98767[1]'"])).stdout.trim());
    const deadline = Date.now() + 10_000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await count()).toBe(0);
  });

  it("a sign-in revoked elsewhere closes the exec within seconds; none outlives the maximum lifetime (4408)", async () => {
    const { user, sessionId } = await runningSession();
    const exec = await openExec(user.accessToken, sessionId, ["sh", "-c", "echo up; sleep 60"], fastChecks({ SHELL_MAX_LIFETIME_SECONDS: "2" }));
    await exec.until(/up/);
    const closed = await within(exec.closed, 6_000);
    expect(closed.code).toBe(SESSION_SOCKET_CLOSE.lifetimeReached);
    expect(closed.reason).toMatch(/reconnect/);

    const revoked = await openExec(user.accessToken, sessionId, ["sh", "-c", "echo up; sleep 60"], fastChecks());
    await revoked.until(/up/);
    await env.DB.prepare("update login_sessions set revoked_at = ?, revoked_reason = 'test' where user_id = ?").bind(Date.now(), user.id).run();
    expect(await within(revoked.closed, SIGN_IN_CACHE_MS + 4_000)).toMatchObject({ code: SESSION_SOCKET_CLOSE.signInEnded });
  });

  it("the command line reaches no log, no command-log row and no D1 table", async () => {
    const { user, sessionId } = await runningSession();
    const secret = `argv-marker-${crypto.randomUUID()}`;
    expect((await runExec(user, sessionId, ["echo", secret])).stdout).toBe(`${secret}\n`);
    await runExec(user, sessionId, ["no-such-program", secret]);
    for (const table of ["error_logs", "command_log", "sessions", "account_events"]) {
      const { results } = await env.DB.prepare(`select * from ${table}`).all();
      expect(JSON.stringify(results), table).not.toContain(secret);
    }
    const lines = await accessLogLines();
    expect(lines.some((line) => line.user_id === user.id)).toBe(true);
    expect(JSON.stringify(lines), "access log").not.toContain(secret);
  });
});
