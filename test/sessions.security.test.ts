/**
 * Sessions and workspaces across tenants, and the Worker → provisioner trust: someone else's
 * session or workspace is never seen or touched (404, as if it did not exist); a host that does
 * not trust the Worker's key, or an address the Worker may not call, starts nothing.
 * (Token attacks on these routes are in test/auth-attacks.test.ts, which finds them itself.)
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { api } from "../workers/api";
import { awayFromWindowEdge, call, createUser, expectProblem, randomIp, testEnv } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, liveSessionsOf, sessionRowsOf, volumeExists } from "./provisioner-harness";

describe("the API map (ARCHITECTURE.md) is a contract", () => {
  it("serves exactly these session, image and workspace operations, all behind a bearer token but the public image catalog", () => {
    const doc = api.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
    const operations = Object.entries(doc.paths ?? {})
      .filter(([path]) => path.startsWith("/v1/sessions") || path.startsWith("/v1/workspace") || path.startsWith("/v1/images"))
      .flatMap(([path, methods]) => Object.entries(methods as Record<string, { security?: unknown[] }>).map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, secured: (op.security?.length ?? 0) > 0 })));
    expect(operations.map((o) => o.route).sort()).toEqual(
      [
        "GET /v1/images",
        "POST /v1/sessions",
        "GET /v1/sessions",
        "GET /v1/sessions/{id}",
        "POST /v1/sessions/{id}/disconnect",
        "GET /v1/sessions/{id}/shell",
        "GET /v1/sessions/{id}/exec",
        "GET /v1/sessions/{id}/ports/{port}",
        "GET /v1/sessions/{id}/metrics",
        "GET /v1/workspace",
        "DELETE /v1/workspace",
        "PUT /v1/workspace/files/{path}",
        "GET /v1/workspace/files/{path}",
        "DELETE /v1/workspace/files/{path}",
        "GET /v1/workspace/tree",
        "GET /v1/workspace/tree/{path}",
        "GET /v1/workspace/archive",
        "PUT /v1/workspace/archive",
      ].sort(),
    );
    expect(operations.filter((o) => !o.secured).map((o) => o.route)).toEqual(["GET /v1/images"]);
  });
});

describe("someone else's session or workspace", () => {
  it("is 404 to get, disconnect or destroy, and stays running", async () => {
    const owner = await entitledUser();
    const other = await entitledUser();
    const session = await connect(owner);
    expect(session.status, session.text).toBe(201);
    const asOther = { ip: other.ip, token: other.accessToken };

    expectProblem(await call("GET", `/v1/sessions/${session.json.id}`, asOther), 404, "not_found");
    expectProblem(await call("POST", `/v1/sessions/${session.json.id}/disconnect`, asOther), 404, "not_found");
    expectProblem(await call("GET", "/v1/workspace", asOther), 404, "not_found");
    expectProblem(await call("DELETE", "/v1/workspace", asOther), 404, "not_found");
    const list = await call("GET", "/v1/sessions", asOther);
    expect(list.json).toEqual({ sessions: [] });
    expect(list.text).not.toContain(session.json.id);

    // The owner's session, container and workspace are untouched, and nothing was logged for the other.
    const mine = await call("GET", `/v1/sessions/${session.json.id}`, { ip: owner.ip, token: owner.accessToken });
    expect(mine.json.state).toBe("running");
    expect((await containersOf(owner.id)).map((c) => [c.sessionId, c.state])).toEqual([[session.json.id, "running"]]);
    expect(await volumeExists(session.json.workspaceId)).toBe(true);
    expect(await commandsOf(other.id)).toEqual([]);
  });

  it("two users' sessions run side by side, each with its own workspace", async () => {
    const a = await entitledUser();
    const b = await entitledUser();
    const [sa, sb] = await Promise.all([connect(a), connect(b)]);
    expect([sa.status, sb.status]).toEqual([201, 201]);
    expect(sa.json.workspaceId).not.toBe(sb.json.workspaceId);
    expect((await containersOf(a.id)).map((c) => c.workspaceId)).toEqual([sa.json.workspaceId]);
    expect((await containersOf(b.id)).map((c) => c.workspaceId)).toEqual([sb.json.workspaceId]);
  });
});

describe("Worker → provisioner trust", () => {
  it("a host that does not trust the Worker's key starts nothing (503 not_configured), and it is logged", async () => {
    const user = await entitledUser();
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    // Under the trusted key's kid: the host picks its key by kid, and the signature does not verify.
    const { kid } = JSON.parse(env.PROVISIONER_PRIVATE_KEY!) as { kid: string };
    const untrusted = { ...testEnv(), PROVISIONER_PRIVATE_KEY: JSON.stringify({ ...(await exportJWK(privateKey)), kid }) } as Cloudflare.Env;
    const res = await connect(user, { env: untrusted });
    expectProblem(res, 503, "not_configured");
    expect(await liveSessionsOf(user.id)).toEqual([]);
    expect(await containersOf(user.id)).toEqual([]);
    const logged = await env.DB.prepare("select code from error_logs where request_id = ? and source = 'provisioner'").bind(res.headers.get("X-Request-Id")).all<{ code: string }>();
    expect(logged.results.map((r) => r.code)).toContain("provisioner_401");
  });

  it("a token is for the host the Worker means to call: a registry row with another id at the same address is refused by the host", async () => {
    const user = await entitledUser();
    const now = Date.now();
    const hostId = `gpu-elsewhere-${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.batch([
      env.DB.prepare("insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values (?, 'x', 'url', ?, 0, 'active', ?)").bind(hostId, env.PROVISIONER_URL!, now),
      env.DB.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, ?, 'hot', ?, ?)").bind(crypto.randomUUID(), user.id, hostId, now, now),
    ]);
    const res = await connect(user);
    expectProblem(res, 503, "not_configured");
    expect(await containersOf(user.id)).toEqual([]);
    const logged = await env.DB.prepare("select code from error_logs where request_id = ? and source = 'provisioner'").bind(res.headers.get("X-Request-Id")).all<{ code: string }>();
    expect(logged.results.map((r) => r.code)).toContain("provisioner_401");
  });

  it("a registry host whose address the Worker may not call (plain http off loopback) is never called", async () => {
    const user = await entitledUser();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values ('hand-written', 'x', 'url', 'http://203.0.113.7', 0, 'active', ?)").bind(now),
      env.DB.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, 'hand-written', 'hot', ?, ?)").bind(crypto.randomUUID(), user.id, now, now),
    ]);
    const res = await connect(user);
    expectProblem(res, 503, "not_configured");
    expect(res.text).not.toContain("203.0.113.7");
    expect((await sessionRowsOf(user.id))[0]).toMatchObject({ state: "failed", failure_code: "not_configured" });
    const logged = await env.DB.prepare("select code from error_logs where request_id = ? and source = 'provisioner'").bind(res.headers.get("X-Request-Id")).all<{ code: string }>();
    expect(logged.results.map((r) => r.code)).toContain("provisioner_host_invalid");
  });
});

describe("per-account limits on routes that make a host work", () => {
  it.each([
    ["POST /v1/sessions", "POST", "/v1/sessions", 403],
    ["GET /v1/workspace", "GET", "/v1/workspace", 404],
  ])("%s: the 31st call of one account in a minute gets 429 with Retry-After, whatever the IP; another account and the other route are unaffected", async (_name, method, path, usual) => {
    await awayFromWindowEdge();
    // Unverified and without a workspace: each call is answered before any host is asked.
    const user = await createUser({ verified: false });
    const other = await createUser({ verified: false });
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await call(method, path, { ip: randomIp(), token: user.accessToken })).status);
    expect(statuses).toEqual([...Array(30).fill(usual), 429]);
    const limited = await call(method, path, { ip: randomIp(), token: user.accessToken });
    expectProblem(limited, 429, "rate_limited");
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await call(method, path, { token: other.accessToken })).status).toBe(usual);
    const [otherMethod, otherPath] = method === "GET" ? ["POST", "/v1/sessions"] : ["GET", "/v1/workspace"];
    expect((await call(otherMethod, otherPath, { token: user.accessToken })).status).not.toBe(429);
  });
});
