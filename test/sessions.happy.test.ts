/**
 * GPU sessions end to end: the real Worker and D1, and a REAL provisioner (test/global-setup.ts)
 * driving this machine's Docker. What the API says is checked against what Docker holds.
 */
import { describe, expect, it } from "vitest";
import { findPlan } from "../workers/domain/plans";
import { call } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, liveSessionsOf, provisioner, sessionRowsOf, volumeExists } from "./provisioner-harness";

const plan = findPlan("cpu-small")!;

describe("connect", () => {
  it("starts a running container sized by the plan, with a workspace, and logs the command", async () => {
    const user = await entitledUser();
    const res = await connect(user);
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      state: "running",
      planId: "cpu-small",
      endedAt: null,
      durationMs: null,
      resources: { gpuType: null, gpuCount: 0, cpus: plan.cpus, memoryMb: plan.memoryMb, pidsLimit: plan.pidsLimit },
      ports: [],
    });
    expect(Date.parse(res.json.startedAt)).toBeGreaterThanOrEqual(Date.parse(res.json.createdAt));

    // Docker really runs it, with the session's labels and the plan's limits.
    const onHost = await provisioner("GET", `/v1/containers/${res.json.id}`);
    expect(onHost.status, onHost.text).toBe(200);
    expect(onHost.json).toMatchObject({ sessionId: res.json.id, workspaceId: res.json.workspaceId, tenantId: user.id, state: "running" });
    expect(onHost.json.resources).toMatchObject({ cpus: plan.cpus, memoryMb: plan.memoryMb, pidsLimit: plan.pidsLimit, gpuCount: 0 });
    expect(await volumeExists(res.json.workspaceId)).toBe(true);

    // Container metadata kept in D1 (policy §1): container id, host, resources.
    const [row] = await sessionRowsOf(user.id);
    expect(row).toMatchObject({ id: res.json.id, state: "running", container_id: onHost.json.containerId, plan_id: "cpu-small", memory_mb: plan.memoryMb });
    expect(row!.host_id).toMatch(/^cfg-/);
    expect(await commandsOf(user.id)).toEqual([{ command: "connect", session_id: res.json.id, request_id: res.headers.get("X-Request-Id") }]);
  });

  it("is idempotent: connecting while running returns the same session and makes no container", async () => {
    const user = await entitledUser();
    const first = await connect(user);
    expect(first.status, first.text).toBe(201);
    const again = await connect(user);
    expect(again.status, again.text).toBe(200);
    expect(again.json).toMatchObject({ id: first.json.id, state: "running", workspaceId: first.json.workspaceId });
    expect(await containersOf(user.id)).toHaveLength(1);
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect", "connect"]);
  });

  it("5 parallel connects make one session and one container", async () => {
    const user = await entitledUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => connect(user)));
    for (const res of results) expect([200, 201], res.text).toContain(res.status);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(new Set(results.map((r) => r.json.id)).size).toBe(1);
    expect(results.every((r) => r.json.state === "running")).toBe(true);

    expect(await sessionRowsOf(user.id)).toHaveLength(1);
    const containers = await containersOf(user.id);
    expect(containers).toHaveLength(1);
    expect(containers[0]!.sessionId).toBe(results[0]!.json.id);
    expect(await commandsOf(user.id)).toHaveLength(5);
  });
});

describe("sessions and workspace", () => {
  it("lists and gets the caller's sessions; the workspace shows its state, size and live session", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);

    const one = await call("GET", `/v1/sessions/${started.json.id}`, { ip: user.ip, token: user.accessToken });
    expect(one.status, one.text).toBe(200);
    expect(one.json).toEqual(started.json);
    const list = await call("GET", "/v1/sessions", { ip: user.ip, token: user.accessToken });
    expect(list.status, list.text).toBe(200);
    expect(list.json.sessions).toEqual([started.json]);

    const workspace = await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(workspace.status, workspace.text).toBe(200);
    expect(workspace.json).toMatchObject({ id: started.json.workspaceId, state: "hot", deletedAt: null, session: { id: started.json.id, state: "running" } });
    // Not measured yet: the every-minute job measures sizes (test/cron-sessions.test.ts).
    expect(workspace.json).toMatchObject({ sizeBytes: null, sizeMeasuredAt: null });
  });
});

describe("disconnect", () => {
  it("stops and removes the container, keeps the workspace, and ends billing time", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);

    const res = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: started.json.id, state: "ended" });
    const duration = Date.parse(res.json.endedAt) - Date.parse(res.json.startedAt);
    expect(res.json.durationMs).toBe(duration);
    expect(duration).toBeGreaterThanOrEqual(0);

    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(started.json.workspaceId)).toBe(true);
    expect(await liveSessionsOf(user.id)).toEqual([]);
    const workspace = await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(workspace.json).toMatchObject({ id: started.json.workspaceId, state: "hot", session: null });

    // Again: nothing changes (the CLI may retry a disconnect whose answer it lost).
    const again = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
    expect(again.status, again.text).toBe(200);
    expect(again.json).toEqual(res.json);
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect", "disconnect", "disconnect"]);
  });

  it("connect afterwards resumes the same workspace, files included, in a new session", async () => {
    const user = await entitledUser();
    const first = await connect(user);
    expect(first.status, first.text).toBe(201);
    const file = `kept-${crypto.randomUUID()}`;
    const put = await provisioner("PUT", `/v1/workspaces/${first.json.workspaceId}/files/${file}.txt`, file);
    expect(put.status, put.text).toBe(201);
    expect((await call("POST", `/v1/sessions/${first.json.id}/disconnect`, { ip: user.ip, token: user.accessToken })).status).toBe(200);

    const second = await connect(user);
    expect(second.status, second.text).toBe(201);
    expect(second.json.id).not.toBe(first.json.id);
    expect(second.json.workspaceId).toBe(first.json.workspaceId);
    expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([second.json.id]);
    const got = await provisioner("GET", `/v1/workspaces/${first.json.workspaceId}/files/${file}.txt`);
    expect(got.status).toBe(200);
    expect(got.text).toBe(file);

    const list = await call("GET", "/v1/sessions", { ip: user.ip, token: user.accessToken });
    expect(list.json.sessions.map((s: { id: string; state: string }) => [s.id, s.state])).toEqual([
      [second.json.id, "running"],
      [first.json.id, "ended"],
    ]);
  });
});

describe("destroy (DELETE /v1/workspace)", () => {
  it("ends the session, removes the container and deletes the volume; a later connect starts a new workspace", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);

    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: started.json.workspaceId, state: "deleted", session: null });
    expect(res.json.deletedAt).not.toBeNull();

    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(started.json.workspaceId)).toBe(false);
    const session = await call("GET", `/v1/sessions/${started.json.id}`, { ip: user.ip, token: user.accessToken });
    expect(session.json).toMatchObject({ state: "ended" });
    expect(session.json.durationMs).toBeGreaterThanOrEqual(0);
    expect((await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken })).status).toBe(404);
    expect((await commandsOf(user.id)).map((c) => [c.command, c.session_id])).toEqual([
      ["connect", started.json.id],
      ["destroy", started.json.id],
    ]);

    const fresh = await connect(user);
    expect(fresh.status, fresh.text).toBe(201);
    expect(fresh.json.workspaceId).not.toBe(started.json.workspaceId);
  });

  it("works on a disconnected workspace too", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect((await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken })).status).toBe(200);
    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(await volumeExists(started.json.workspaceId)).toBe(false);
    expect((await commandsOf(user.id)).at(-1)).toMatchObject({ command: "destroy", session_id: null });
  });
});
