/**
 * Sessions refused, and faults: entitlements, a provisioner that is down, interrupted connects,
 * disconnects and destroys, missing configuration. After each fault D1 and Docker are checked:
 * nothing half-made is left reachable, and the next call repairs what was interrupted.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { STARTING_STALE_MS } from "../workers/domain/sessions";
import { call, createUser, expectProblem, testEnv } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, grantPlan, liveSessionsOf, sessionRowsOf, track, volumeExists } from "./provisioner-harness";

/** The Worker configured with a provisioner that is down: nothing listens on this port. */
const hostDown = () => ({ ...testEnv(), PROVISIONER_URL: "http://127.0.0.1:1" }) as Cloudflare.Env;

const expectRetryable = (res: Awaited<ReturnType<typeof call>>, code: string) => {
  expectProblem(res, 503, code);
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
};

describe("connect is refused", () => {
  it("without a verified email (403), and says so on the account", async () => {
    const user = track(await createUser({ verified: false }));
    await grantPlan(user.id);
    expectProblem(await connect(user), 403, "email_unverified");
    expect(await sessionRowsOf(user.id)).toEqual([]);
    expect(await containersOf(user.id)).toEqual([]);
    const me = await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken });
    expect(me.json).toMatchObject({ canStartSessions: false, restrictions: ["email_unverified"] });
  });

  it("without a plan (402), or with a plan that does not exist; granted, the account can start sessions", async () => {
    const user = track(await createUser());
    expectProblem(await connect(user), 402, "no_plan");
    const me = await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken });
    expect(me.json).toMatchObject({ planId: null, canStartSessions: false, restrictions: ["no_plan"] });

    await grantPlan(user.id, "no-such-plan");
    expectProblem(await connect(user), 402, "no_plan");
    expect(await sessionRowsOf(user.id)).toEqual([]);

    await grantPlan(user.id, "cpu-small");
    const granted = await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken });
    expect(granted.json).toMatchObject({ planId: "cpu-small", canStartSessions: true, restrictions: [] });
  });

  it("when no host has free GPUs of the plan's type (503 no_capacity), making nothing", async () => {
    const user = await entitledUser("h100-1"); // the test host has no GPU
    expectRetryable(await connect(user), "no_capacity");
    expect(await sessionRowsOf(user.id)).toEqual([]);
    expect((await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken })).status).toBe(404);
  });
});

describe("provisioner down", () => {
  it("connect answers 503 with Retry-After and leaves no live session, no workspace, no container", async () => {
    const user = await entitledUser();
    const res = await connect(user, { env: hostDown() });
    expectRetryable(res, "provisioner_unavailable");

    expect(await liveSessionsOf(user.id)).toEqual([]);
    const [failed] = await sessionRowsOf(user.id);
    expect(failed).toMatchObject({ state: "failed", failure_code: "provisioner_unavailable", duration_ms: 0, started_at: null });
    expect((await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken })).status).toBe(404);
    expect(await containersOf(user.id)).toEqual([]);
    const logged = await env.DB.prepare("select code, message from error_logs where request_id = ? and source = 'provisioner'")
      .bind(res.headers.get("X-Request-Id"))
      .all<{ code: string; message: string }>();
    expect(logged.results.map((r) => r.code)).toContain("provisioner_unreachable");

    // The host is back: connect works, on a fresh workspace.
    const retried = await connect(user);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.json.workspaceId).not.toBe(failed!.workspace_id);
  });

  it("a provisioner that accepts but never answers times out into the same 503, with nothing left live", async () => {
    const user = await entitledUser();
    const hanging = { ...testEnv(), PROVISIONER_URL: env.TEST_HANGING_PROVISIONER_URL, PROVISIONER_TIMEOUT_SECONDS: "2" } as Cloudflare.Env;
    const startedAt = Date.now();
    const res = await connect(user, { env: hanging });
    expectRetryable(res, "provisioner_unavailable");
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(await liveSessionsOf(user.id)).toEqual([]);
    expect((await sessionRowsOf(user.id))[0]).toMatchObject({ state: "failed", failure_code: "provisioner_unavailable" });
  });

  it("parallel connects to a hanging host make one attempt: every caller gets its failure", async () => {
    const user = await entitledUser();
    const hanging = { ...testEnv(), PROVISIONER_URL: env.TEST_HANGING_PROVISIONER_URL, PROVISIONER_TIMEOUT_SECONDS: "2" } as Cloudflare.Env;
    const results = await Promise.all(Array.from({ length: 5 }, () => connect(user, { env: hanging })));
    for (const res of results) expectRetryable(res, "provisioner_unavailable");
    expect((await sessionRowsOf(user.id)).map((s) => s.state)).toEqual(["failed"]);
    expect(await commandsOf(user.id)).toHaveLength(5);
  });

  it("a disconnect it interrupts stops billing at once, and the next connect finishes it", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    // The configured host is still the one registered for this workspace; its address changes here.
    await env.DB.prepare("update gpu_hosts set base_url = 'http://127.0.0.1:1' where id = (select host_id from sessions where id = ?)").bind(started.json.id).run();
    const res = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
    await env.DB.prepare("update gpu_hosts set base_url = ? where id = (select host_id from sessions where id = ?)").bind(env.PROVISIONER_URL, started.json.id).run();
    expectRetryable(res, "provisioner_unavailable");
    const [stopping] = await sessionRowsOf(user.id);
    expect(stopping).toMatchObject({ state: "stopping" });
    expect(stopping!.ended_at).not.toBeNull(); // billing stopped when the user asked

    const resumed = await connect(user);
    expect(resumed.status, resumed.text).toBe(201);
    expect(resumed.json.workspaceId).toBe(started.json.workspaceId);
    const old = await call("GET", `/v1/sessions/${started.json.id}`, { ip: user.ip, token: user.accessToken });
    expect(old.json).toMatchObject({ state: "ended", endedAt: new Date(stopping!.ended_at as number).toISOString() });
    expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([resumed.json.id]);
  });

  it("a destroy it interrupts leaves the workspace `deleting` (connect refused) until destroy is run again", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    const hostId = (await sessionRowsOf(user.id))[0]!.host_id as string;
    await env.DB.prepare("update gpu_hosts set base_url = 'http://127.0.0.1:1' where id = ?").bind(hostId).run();
    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    await env.DB.prepare("update gpu_hosts set base_url = ? where id = ?").bind(env.PROVISIONER_URL, hostId).run();
    expectRetryable(res, "provisioner_unavailable");

    const status = await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(status.json).toMatchObject({ state: "deleting" });
    expectProblem(await connect(user), 409, "workspace_busy");

    const again = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(again.status, again.text).toBe(200);
    expect(again.json.state).toBe("deleted");
    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(started.json.workspaceId)).toBe(false);
  });

  it("workspace status still answers, with the last measured size, without asking the host", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    await env.DB.prepare("update workspaces set size_bytes = 4242, size_measured_at = ? where id = ?").bind(Date.parse("2026-01-02T03:04:05Z"), started.json.workspaceId).run();
    const measured = await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(measured.status, measured.text).toBe(200);
    expect(measured.json).toMatchObject({ sizeBytes: 4242, sizeMeasuredAt: "2026-01-02T03:04:05.000Z" });
    const hostId = (await sessionRowsOf(user.id))[0]!.host_id as string;
    await env.DB.prepare("update gpu_hosts set base_url = 'http://127.0.0.1:1' where id = ?").bind(hostId).run();
    const res = await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    await env.DB.prepare("update gpu_hosts set base_url = ? where id = ?").bind(env.PROVISIONER_URL, hostId).run();
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: started.json.workspaceId, sizeBytes: measured.json.sizeBytes, sizeMeasuredAt: measured.json.sizeMeasuredAt });
  });
});

describe("interrupted and busy states", () => {
  it("a connect that died mid-way (a stale `starting` row) is failed by the next connect, which starts afresh", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    const longAgo = Date.now() - STARTING_STALE_MS - 60_000;
    await env.DB.prepare("update sessions set state = 'starting', started_at = null, created_at = ? where id = ?").bind(longAgo, started.json.id).run();

    const res = await connect(user);
    expect(res.status, res.text).toBe(201);
    expect(res.json.id).not.toBe(started.json.id);
    expect(res.json.workspaceId).toBe(started.json.workspaceId);
    const old = (await sessionRowsOf(user.id)).find((s) => s.id === started.json.id);
    expect(old).toMatchObject({ state: "failed", failure_code: "connect_interrupted" });
    expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([res.json.id]);
  });

  it("a container left on the host by a session that is no longer live is removed by the next connect", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    // As if a failed connect's cleanup never reached the host: D1 says failed, Docker still has it.
    await env.DB.prepare("update sessions set state = 'failed', ended_at = ? where id = ?").bind(Date.now(), started.json.id).run();

    const res = await connect(user);
    expect(res.status, res.text).toBe(201);
    expect(res.json.workspaceId).toBe(started.json.workspaceId);
    expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([res.json.id]);
  });

  it("disconnect and destroy wait for a session that is still starting (409 with Retry-After)", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    await env.DB.prepare("update sessions set state = 'starting' where id = ?").bind(started.json.id).run();
    const disconnect = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
    expectProblem(disconnect, 409, "session_busy");
    expect(disconnect.headers.get("Retry-After")).toBe("5");
    expectProblem(await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken }), 409, "session_busy");
    expect(await volumeExists(started.json.workspaceId)).toBe(true);
  });
});

describe("bad input", () => {
  it("404 for a workspace or session that does not exist", async () => {
    const user = await entitledUser();
    expectProblem(await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken }), 404, "not_found");
    expectProblem(await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken }), 404, "not_found");
    expectProblem(await call("GET", `/v1/sessions/${crypto.randomUUID()}`, { ip: user.ip, token: user.accessToken }), 404, "not_found");
    expectProblem(await call("POST", "/v1/sessions/not-a-session/disconnect", { ip: user.ip, token: user.accessToken }), 404, "not_found");
    expectProblem(await call("GET", `/v1/sessions/${"x".repeat(65)}`, { ip: user.ip, token: user.accessToken }), 400, "validation_failed");
    expect(await commandsOf(user.id)).toEqual([]);
  });

  it("list limits are validated", async () => {
    const user = await entitledUser();
    for (const limit of ["0", "101", "ten"]) expectProblem(await call("GET", `/v1/sessions?limit=${limit}`, { ip: user.ip, token: user.accessToken }), 400, "validation_failed");
    const ok = await call("GET", "/v1/sessions?limit=1", { ip: user.ip, token: user.accessToken });
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ sessions: [] });
  });
});

describe("configuration", () => {
  it("without the provisioner key, session routes answer 503 not_configured and accounts keep working", async () => {
    const user = await entitledUser();
    const { PROVISIONER_PRIVATE_KEY: _key, ...rest } = testEnv();
    const noKey = rest as Cloudflare.Env;
    expectProblem(await connect(user, { env: noKey }), 503, "not_configured");
    expect((await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken, env: noKey })).status).toBe(200);
    expect(await sessionRowsOf(user.id)).toEqual([]);
  });

  it("a provisioner URL that is plain http off loopback, or not an origin, is refused before any call", async () => {
    const user = await entitledUser();
    for (const url of ["http://gpu-1.example.com", "ftp://127.0.0.1:21", "https://gpu.example.com/prefix", "https://user:pw@gpu.example.com", "not a url"]) {
      const res = await connect(user, { env: { ...testEnv(), PROVISIONER_URL: url } as Cloudflare.Env });
      expectProblem(res, 503, "not_configured");
      expect(res.text).not.toContain(url);
    }
    expect(await sessionRowsOf(user.id)).toEqual([]);
  });
});
