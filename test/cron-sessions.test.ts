/**
 * The every-minute cron (workers/cron: usage-metrics, reconcile, idle-disconnect) through the real
 * scheduled handler with a controlled clock (`scheduledTime`), against the REAL provisioner of
 * test/global-setup.ts. Sessions start through the API (wall-clock times), so each test's ticks
 * run at chosen times after its session's start. The host has no NVIDIA GPU: GPU figures are null.
 * Other test files share the provisioner: a container of a tenant this file's D1 does not know is
 * never touched by reconcile (asserted below), so they are safe from this file's ticks.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { configuredHostId } from "../contract/provisioner-token";
import worker from "../workers/index";
import { call, outbox, randomId, testEnv } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, MINIMAL_IMAGE, provisioner, sessionRowsOf, volumeExists } from "./provisioner-harness";

const CRON = "* * * * *";
const MINUTE = 60_000;
const db = env.DB;

async function tick(scheduledTime: number, overrides: Partial<Cloudflare.Env> = {}) {
  const controller = createScheduledController({ cron: CRON, scheduledTime });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, { ...testEnv(), ...overrides } as Cloudflare.Env, ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

/** A connected user: the session row as D1 holds it, and the next whole minute after its start. */
async function connectedUser() {
  const user = await entitledUser();
  const res = await connect(user);
  expect(res.status, res.text).toBe(201);
  const [row] = await sessionRowsOf(user.id);
  expect(row?.state).toBe("running");
  const startedAt = row!.started_at as number;
  return { user, session: row!, sessionId: res.json.id as string, workspaceId: res.json.workspaceId as string, firstMinute: Math.ceil(startedAt / MINUTE) * MINUTE + MINUTE };
}

const samplesOf = async (sessionId: string) =>
  (await db.prepare("select * from usage_samples where session_id = ? order by at").bind(sessionId).all<Record<string, unknown>>()).results;
const sessionRow = async (sessionId: string) => db.prepare("select * from sessions where id = ?").bind(sessionId).first<Record<string, unknown>>();

/** A container made straight on the host, behind D1's back. */
async function hostContainer(input: { sessionId: string; workspaceId: string; tenantId: string }) {
  const body = { ...input, image: MINIMAL_IMAGE, plan: { gpuCount: 0, cpus: 0.5, memoryMb: 128, pidsLimit: 64 }, start: true };
  const res = await provisioner("POST", "/v1/containers", JSON.stringify(body));
  expect(res.status, res.text).toBe(201);
}
const hostHas = async (sessionId: string) => (await provisioner("GET", `/v1/containers/${sessionId}`)).status === 200;
const removeOnHost = async (sessionId: string, workspaceId?: string) => {
  await provisioner("DELETE", `/v1/containers/${sessionId}`);
  if (workspaceId) await provisioner("DELETE", `/v1/workspaces/${workspaceId}`);
};

/** Registers the test provisioner as connect would (for tests that write their rows directly). */
async function registerTestHost() {
  const id = await configuredHostId(env.PROVISIONER_URL!);
  await db
    .prepare("insert or ignore into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values (?, 'test', 'url', ?, 0, 'active', ?)")
    .bind(id, env.PROVISIONER_URL!, Date.now())
    .run();
  return id;
}

describe("usage-metrics", () => {
  it("writes one usage sample per running session: GPU figures null on this host, CPU and memory measured", async () => {
    const { user, sessionId, firstMinute } = await connectedUser();
    await tick(firstMinute);
    const [sample, ...more] = await samplesOf(sessionId);
    expect(more).toEqual([]);
    expect(sample).toMatchObject({ user_id: user.id, at: firstMinute, gpu_count: 0, gpu_utilization_percent: null, gpu_utilization_max_percent: null, gpu_memory_used_mb: null, gpu_memory_total_mb: null, shells_attached: 0 });
    expect(typeof sample!.cpu_percent).toBe("number");
    expect(sample!.memory_used_bytes as number).toBeGreaterThan(0);
    const host = await db.prepare("select last_seen_at from gpu_hosts where id = ?").bind(await configuredHostId(env.PROVISIONER_URL!)).first<{ last_seen_at: number }>();
    expect(host!.last_seen_at).toBeGreaterThanOrEqual(firstMinute);
  });

  it("running the same tick twice is harmless: one sample, the session and its container untouched", async () => {
    const { user, sessionId, firstMinute } = await connectedUser();
    await tick(firstMinute);
    await expect(tick(firstMinute)).resolves.toBeUndefined();
    expect(await samplesOf(sessionId)).toHaveLength(1);
    expect((await sessionRow(sessionId))!.state).toBe("running");
    expect((await containersOf(user.id)).map((c) => [c.sessionId, c.state])).toEqual([[sessionId, "running"]]);
  });
});

describe("reconcile", () => {
  it("removes a container no live session owns, keeps the live one, and leaves other deployments' containers alone", async () => {
    const { user, sessionId, firstMinute } = await connectedUser();
    const orphan = { sessionId: `orphan-${randomId()}`, workspaceId: `ws-${randomId()}`, tenantId: user.id };
    const foreign = { sessionId: `foreign-${randomId()}`, workspaceId: `ws-${randomId()}`, tenantId: `other-${randomId()}` };
    await hostContainer(orphan);
    await hostContainer(foreign);
    try {
      await tick(firstMinute);
      expect(await hostHas(orphan.sessionId)).toBe(false);
      expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([sessionId]);
      expect((await sessionRow(sessionId))!.state).toBe("running");
      // A tenant this D1 does not know: not made by this deployment (another test file, staging).
      expect(await hostHas(foreign.sessionId)).toBe(true);
    } finally {
      await removeOnHost(orphan.sessionId, orphan.workspaceId);
      await removeOnHost(foreign.sessionId, foreign.workspaceId);
    }
  });

  it("ends a running session whose container vanished at its last seen time, with its duration", async () => {
    const { user, session, sessionId, firstMinute } = await connectedUser();
    await tick(firstMinute); // a sample: last seen at firstMinute
    await removeOnHost(sessionId);
    await tick(firstMinute + 5 * MINUTE);
    const row = await sessionRow(sessionId);
    expect(row).toMatchObject({ state: "ended", ended_at: firstMinute, duration_ms: firstMinute - (session.started_at as number) });
    // Billing (started_at → ended_at) stops where the container was last seen, not at the tick.
    await tick(firstMinute + 6 * MINUTE);
    expect((await sessionRow(sessionId))!.ended_at).toBe(firstMinute);
    // The user can connect again.
    const again = await connect(user);
    expect(again.status, again.text).toBe(201);
  });

  it("a session whose container vanished before any sample ends at its start (nothing billed)", async () => {
    const { session, sessionId, firstMinute } = await connectedUser();
    await removeOnHost(sessionId);
    await tick(firstMinute);
    expect(await sessionRow(sessionId)).toMatchObject({ state: "ended", ended_at: session.started_at, duration_ms: 0 });
  });

  it("a connect that died mid-way (stale starting row, container made) leaves nothing after the next tick", async () => {
    const user = await entitledUser();
    const hostId = await registerTestHost();
    const now = Date.now();
    const workspaceId = `ws${randomId()}`;
    const sessionId = `se${randomId()}`;
    await db.batch([
      db.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, ?, 'hot', ?, ?)").bind(workspaceId, user.id, hostId, now, now),
      db
        .prepare("insert into sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, gpu_count, cpus, memory_mb, pids_limit, ports) values (?, ?, ?, ?, 'cpu-small', 'starting', ?, 0, 1, 512, 256, '[]')")
        .bind(sessionId, user.id, workspaceId, hostId, now),
    ]);
    await hostContainer({ sessionId, workspaceId, tenantId: user.id });
    // Within the 2 minutes a create may take, the connect may still be working: left alone.
    await tick(now + MINUTE);
    expect((await sessionRow(sessionId))!.state).toBe("starting");
    expect(await hostHas(sessionId)).toBe(true);
    await tick(now + 3 * MINUTE);
    expect(await sessionRow(sessionId)).toMatchObject({ state: "failed", failure_code: "connect_interrupted", duration_ms: 0 });
    expect(await hostHas(sessionId)).toBe(false);
  });

  it("a host that is down or hangs is skipped: the tick does not throw and the other host's work is done", async () => {
    const { user, sessionId, firstMinute } = await connectedUser();
    const downHosts = [
      { id: `down-${randomId()}`, url: "http://127.0.0.1:9" }, // refused
      { id: `hang-${randomId()}`, url: env.TEST_HANGING_PROVISIONER_URL }, // accepts, never answers
    ];
    const stranded: string[] = [];
    for (const host of downHosts) {
      const other = await entitledUser();
      const ws = `ws${randomId()}`;
      const se = `se${randomId()}`;
      stranded.push(se);
      await db.batch([
        db.prepare("insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values (?, 'down', 'url', ?, 0, 'active', 0)").bind(host.id, host.url),
        db.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, ?, 'hot', 0, 0)").bind(ws, other.id, host.id),
        db
          .prepare(
            "insert into sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, gpu_count, cpus, memory_mb, pids_limit, ports) values (?, ?, ?, ?, 'cpu-small', 'running', 0, 0, 0, 1, 512, 256, '[]')",
          )
          .bind(se, other.id, ws, host.id),
      ]);
    }
    try {
      // A shorter provisioner timeout (reads get a quarter: 5 s) keeps the hanging host from holding the test long.
      await expect(tick(firstMinute, { PROVISIONER_TIMEOUT_SECONDS: "20" })).resolves.toBeUndefined();
      expect(await samplesOf(sessionId)).toHaveLength(1);
      expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([sessionId]);
      // Nothing is concluded about a host that did not answer: its sessions are not ended.
      for (const se of stranded) expect((await sessionRow(se))!.state).toBe("running");
      for (const host of downHosts) expect((await db.prepare("select last_seen_at from gpu_hosts where id = ?").bind(host.id).first())!.last_seen_at).toBeNull();
      const logged = await db.prepare("select code from error_logs where request_id = ? and source = 'provisioner'").bind(`cron:reconcile:${firstMinute}`).all<{ code: string }>();
      expect(logged.results.map((r) => r.code)).toContain("provisioner_unreachable");
    } finally {
      // Out of service, so later ticks of this file do not wait on them.
      for (const host of downHosts) await db.prepare("update gpu_hosts set status = 'offline' where id = ?").bind(host.id).run();
      for (const se of stranded) await db.prepare("update sessions set state = 'ended', ended_at = 0, duration_ms = 0 where id = ?").bind(se).run();
    }
  });
});

describe("idle-disconnect", () => {
  const IDLE = { IDLE_MINUTES: "3" } as Partial<Cloudflare.Env>;

  it("disconnects a session idle (CPU under the threshold, no shell) for IDLE_MINUTES, not before, and emails its user once", async () => {
    const { user, sessionId, workspaceId, firstMinute } = await connectedUser();
    const idleMails = () => outbox.filter((m) => m.to === user.email && /idle/.test(m.subject));
    for (let minute = 0; minute <= 2; minute++) {
      await tick(firstMinute + minute * MINUTE, IDLE);
      expect((await sessionRow(sessionId))!.state, `minute ${minute}`).toBe("running");
    }
    expect(idleMails()).toEqual([]);
    const disconnectedAt = firstMinute + 3 * MINUTE;
    await tick(disconnectedAt, IDLE);
    const row = await sessionRow(sessionId);
    expect(row).toMatchObject({ state: "ended", ended_at: disconnectedAt });
    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(workspaceId)).toBe(true); // disconnect keeps the workspace
    expect((await commandsOf(user.id)).at(-1)).toEqual({ command: "disconnect", session_id: sessionId, request_id: `cron:idle-disconnect:${disconnectedAt}` });
    const [mail, ...more] = idleMails();
    expect(more).toEqual([]);
    expect(mail).toMatchObject({ subject: "Your GPU session was disconnected because it was idle", headers: { "X-Ozekai-Email-Kind": "account" } });
    expect(mail!.text).toMatch(/never send marketing/);
    // At least once: the same tick again sends nothing more.
    await tick(disconnectedAt, IDLE);
    expect(idleMails()).toHaveLength(1);
  });

  it("a shell attached, a busy minute or an unreadable figure within the window keeps the session", async () => {
    for (const busy of [{ shells_attached: 1 }, { cpu_percent: 80 }, { cpu_percent: null }]) {
      const { user, sessionId, firstMinute } = await connectedUser();
      const at = (m: number) => firstMinute + m * MINUTE;
      const sample = (m: number, fields: Record<string, unknown> = {}) => {
        const row = { cpu_percent: 0.5, shells_attached: 0, ...fields };
        return db
          .prepare("insert into usage_samples (session_id, user_id, at, gpu_count, cpu_percent, memory_used_bytes, shells_attached) values (?, ?, ?, 0, ?, 1000, ?)")
          .bind(sessionId, user.id, at(m), row.cpu_percent, row.shells_attached);
      };
      await db.batch([sample(0), sample(1, busy), sample(2)]);
      await tick(at(3), IDLE);
      expect((await sessionRow(sessionId))!.state, JSON.stringify(busy)).toBe("running");
      // Once the busy minute is out of the window, the session is idle.
      await tick(at(4), IDLE);
      await tick(at(5), IDLE);
      expect((await sessionRow(sessionId))!.state, JSON.stringify(busy)).toBe("ended");
    }
  });
});

describe("account deletion", () => {
  it("ends the live session and destroys the workspace on its host", async () => {
    const { user, sessionId, workspaceId } = await connectedUser();
    const res = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
    expect(res.status, res.text).toBe(202);
    expect((await sessionRow(sessionId))!.state).toBe("ended");
    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(workspaceId)).toBe(false);
    expect((await db.prepare("select state from workspaces where id = ?").bind(workspaceId).first())!.state).toBe("deleted");
  });

  it("with the host down the account is deleted anyway, and reconcile removes the session and workspace once it is back", async () => {
    const { user, sessionId, workspaceId, firstMinute } = await connectedUser();
    const hostId = await configuredHostId(env.PROVISIONER_URL!);
    await db.prepare("update gpu_hosts set base_url = 'http://127.0.0.1:9' where id = ?").bind(hostId).run();
    try {
      const res = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
      expect(res.status, res.text).toBe(202);
      expect((await db.prepare("select deleted_at from users where id = ?").bind(user.id).first())!.deleted_at).not.toBeNull();
      expect((await db.prepare("select state from workspaces where id = ?").bind(workspaceId).first())!.state).toBe("deleting");
      expect(await containersOf(user.id)).toHaveLength(1);
    } finally {
      await db.prepare("update gpu_hosts set base_url = ? where id = ?").bind(env.PROVISIONER_URL!, hostId).run();
    }
    await tick(firstMinute);
    expect((await sessionRow(sessionId))!.state).toBe("ended");
    expect(await containersOf(user.id)).toEqual([]);
    expect(await volumeExists(workspaceId)).toBe(false);
    expect((await db.prepare("select state from workspaces where id = ?").bind(workspaceId).first())!.state).toBe("deleted");
  });
});

describe("workspace-sizes: each host's workspace sizes, measured by the every-minute job", () => {
  const upload = async (user: Awaited<ReturnType<typeof entitledUser>>, name: string, bytes: number) => {
    const res = await call("PUT", `/v1/workspace/files/${name}`, { ip: user.ip, token: user.accessToken, rawBody: new Uint8Array(bytes).fill(7), headers: { "Content-Type": "application/octet-stream", "Content-Length": String(bytes) } });
    expect(res.status, res.text).toBeLessThan(300);
  };
  const view = async (user: Awaited<ReturnType<typeof entitledUser>>) => (await call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken })).json;

  it("GET /v1/workspace shows the size the job measured, never measuring on request", async () => {
    const { user, firstMinute } = await connectedUser();
    expect(await view(user)).toMatchObject({ sizeBytes: null, sizeMeasuredAt: null });
    await upload(user, "one.bin", 1024 * 1024);
    await tick(firstMinute);
    const first = await view(user);
    expect(first.sizeBytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(first.sizeMeasuredAt).toBe(new Date(firstMinute).toISOString());

    await upload(user, "two.bin", 2 * 1024 * 1024);
    expect(await view(user)).toMatchObject({ sizeBytes: first.sizeBytes, sizeMeasuredAt: first.sizeMeasuredAt });
    await tick(firstMinute + MINUTE);
    const second = await view(user);
    expect(second.sizeBytes).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    expect(second.sizeMeasuredAt).toBe(new Date(firstMinute + MINUTE).toISOString());
  });

  it("a host's report changes only the workspaces D1 places on that host", async () => {
    const { user, workspaceId, firstMinute } = await connectedUser();
    const elsewhere = `h-${randomId()}`;
    await db
      .prepare("insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, registered_at) values (?, 'elsewhere', 'url', 'http://127.0.0.1:1', 0, 'offline', ?)")
      .bind(elsewhere, Date.now())
      .run();
    await db.prepare("update workspaces set host_id = ? where id = ?").bind(elsewhere, workspaceId).run();
    await tick(firstMinute);
    expect(await view(user)).toMatchObject({ sizeBytes: null, sizeMeasuredAt: null });
  });
});
