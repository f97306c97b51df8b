/**
 * Policy §6 inactivity deletion (workers/domain/workspace-retention.ts, the hourly job) by moving
 * the clock: the hourly cron runs through the real scheduled handler with a chosen
 * `scheduledTime`, against the real provisioner (hot volumes) and miniflare's R2 (cold copies).
 * A workspace is made through the API, then its activity (sign-in, connect, session end) is set
 * back to a chosen `base` in D1, so "day N" is `base + N days`. Also: workspace status fields, and
 * destroy of cold and in-transfer workspaces. Each test has its own users; the ticks of one test
 * may also see an earlier test's workspaces, so assertions are per user.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { SIGN_IN_CACHE_MS } from "../workers/domain/accounts";
import { coldObjectKey } from "../workers/domain/cold-storage";
import { configuredHostId } from "../contract/provisioner-token";
import { DELETION_WARNING_DAYS, WORKSPACE_RETENTION_DAYS } from "../workers/domain/workspaces";
import worker from "../workers/index";
import { call, expectProblem, outbox, testEnv, type TestUser } from "./harness";
import { commandsOf, connect, containersOf, entitledUser, volumeExists } from "./provisioner-harness";

const CRON = "17 * * * *";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const db = env.DB;

async function tick(scheduledTime: number) {
  const controller = createScheduledController({ cron: CRON, scheduledTime });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, testEnv(), ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

const warningsTo = (user: TestUser) => outbox.filter((m) => m.to === user.email && /deleted for inactivity/.test(m.subject));
const workspaceRow = (id: string) => db.prepare("select * from workspaces where id = ?").bind(id).first<Record<string, unknown>>();
const inactivityAudits = async (userId: string) =>
  (await db.prepare("select * from account_events where user_id = ? and type = 'workspace_deleted_inactive'").bind(userId).all<Record<string, unknown>>()).results;
const status = (user: TestUser) => call("GET", "/v1/workspace", { ip: user.ip, token: user.accessToken });

/** Every activity of the user — sign-in, connect, the end of each session — set to `at`. */
async function lastActiveAt(userId: string, workspaceId: string, at: number) {
  await db.batch([
    db.prepare("update users set last_active_at = ? where id = ?").bind(at, userId),
    db.prepare("update workspaces set last_used_at = ? where id = ?").bind(at, workspaceId),
    db.prepare("update sessions set created_at = ?, started_at = ?, ended_at = ? where user_id = ? and ended_at is not null").bind(at - HOUR, at - HOUR, at, userId),
  ]);
}

/** A disconnected user with a hot workspace (a volume on the real host), last active `daysAgo` days ago. */
async function inactiveHotWorkspace(daysAgo: number) {
  const user = await entitledUser();
  const started = await connect(user);
  expect(started.status, started.text).toBe(201);
  const ended = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
  expect(ended.status, ended.text).toBe(200);
  const base = Date.now() - daysAgo * DAY;
  await lastActiveAt(user.id, started.json.workspaceId, base);
  return { user, workspaceId: started.json.workspaceId as string, base };
}

/**
 * A cold workspace written straight into D1 and R2, as the archiver (cold-storage.ts) would leave
 * it: state `cold`, no host, the tar at coldObjectKey and a `complete` archive row.
 */
async function coldWorkspace(user: TestUser, lastUsedAt: number, bytes = new TextEncoder().encode(`tar of ${user.id}`)) {
  const workspaceId = `ws${crypto.randomUUID().slice(0, 12)}`;
  const hostId = await configuredHostId(env.PROVISIONER_URL!);
  await env.WORKSPACES.put(coldObjectKey(workspaceId), bytes);
  await db.batch([
    db.prepare("update users set last_active_at = ? where id = ?").bind(lastUsedAt, user.id),
    db
      .prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at, size_bytes, size_measured_at) values (?, ?, null, 'cold', ?, ?, ?, ?)")
      .bind(workspaceId, user.id, lastUsedAt - DAY, lastUsedAt, 4096, lastUsedAt),
    db
      .prepare(
        "insert into workspace_archives (workspace_id, user_id, host_id, object_key, upload_id, phase, part_size, size_bytes, sha256, part_hashes, parts, attempts, started_at, updated_at, completed_at) values (?, ?, ?, ?, null, 'complete', ?, ?, 'ab', '[]', '[]', 1, ?, ?, ?)",
      )
      .bind(workspaceId, user.id, hostId, coldObjectKey(workspaceId), 8 * 1024 * 1024, bytes.length, lastUsedAt, lastUsedAt, lastUsedAt),
  ]);
  return workspaceId;
}
/** An archive started and not committed, as the archiver leaves it mid-way: an R2 multipart upload and its `uploading` row. */
async function archiveStarted(user: TestUser, workspaceId: string, at: number) {
  const upload = await env.WORKSPACES.createMultipartUpload(coldObjectKey(workspaceId));
  await db.batch([
    db.prepare("update workspaces set state = 'archiving', transfer_bytes = 0 where id = ?").bind(workspaceId),
    db
      .prepare("insert into workspace_archives (workspace_id, user_id, host_id, object_key, upload_id, phase, part_size, parts, attempts, started_at, updated_at) values (?, ?, ?, ?, ?, 'uploading', ?, '[]', 1, ?, ?)")
      .bind(workspaceId, user.id, await configuredHostId(env.PROVISIONER_URL!), coldObjectKey(workspaceId), upload.uploadId, 8 * 1024 * 1024, at, at),
  ]);
  return upload;
}
const archiveRow = (workspaceId: string) => db.prepare("select * from workspace_archives where workspace_id = ?").bind(workspaceId).first();

describe("inactivity deletion (policy §6)", () => {
  it("day 52 nothing; day 53 one warning email with the date; day 59 kept; day 60 deleted on the host, with an audit row", async () => {
    const { user, workspaceId, base } = await inactiveHotWorkspace(55);

    await tick(base + 52 * DAY);
    expect(warningsTo(user)).toEqual([]);
    expect((await workspaceRow(workspaceId))!.deletion_warned_at).toBeNull();

    await tick(base + 53 * DAY);
    const [warning, ...more] = warningsTo(user);
    expect(more).toEqual([]);
    expect(warning!.headers?.["X-Ozekai-Email-Kind"]).toBe("account");
    expect(warning!.text).toContain(new Date(base + 60 * DAY).toISOString().slice(0, 16).replace("T", " "));
    expect((await workspaceRow(workspaceId))!.deletion_warned_at).toBe(base + 53 * DAY);

    await tick(base + 53 * DAY + HOUR); // the next tick: not twice
    await tick(base + 59 * DAY);
    expect(warningsTo(user)).toHaveLength(1);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    expect(await volumeExists(workspaceId)).toBe(true);

    await tick(base + 60 * DAY);
    expect(await workspaceRow(workspaceId)).toMatchObject({ state: "deleted", deleted_at: base + 60 * DAY });
    expect(await volumeExists(workspaceId)).toBe(false);
    const [audit, ...moreAudits] = await inactivityAudits(user.id);
    expect(moreAudits).toEqual([]);
    expect(audit).toMatchObject({ actor: "system:workspace-retention", at: base + 60 * DAY });
    expect(JSON.parse(audit!.detail as string)).toEqual({ workspaceId, warnedAt: new Date(base + 53 * DAY).toISOString() });
    // Not a CLI command: the command log has the user's connect and disconnect only.
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect", "disconnect"]);
  });

  it("activity after the warning (an API call) voids it: kept at day 60, warned again when due, deleted 7 days after that", async () => {
    const { user, workspaceId, base } = await inactiveHotWorkspace(54);
    await tick(base + 53 * DAY);
    expect(warningsTo(user)).toHaveLength(1);

    // Once the sign-in remembered since signup has expired (the back-dated activity is then read from D1).
    vi.useFakeTimers({ now: Date.now() + SIGN_IN_CACHE_MS + 1, toFake: ["Date"] });
    const me = await call("GET", "/v1/account", { ip: user.ip, token: user.accessToken }).finally(() => vi.useRealTimers());
    expect(me.status, me.text).toBe(200);
    const active = (await db.prepare("select last_active_at as at from users where id = ?").bind(user.id).first<{ at: number }>())!.at;
    expect(active).toBeGreaterThan(base + 53 * DAY);

    await tick(base + 60 * DAY);
    await tick(base + 70 * DAY);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    expect(await inactivityAudits(user.id)).toEqual([]);
    expect(warningsTo(user)).toHaveLength(1);

    await tick(active + 53 * DAY - HOUR);
    expect(warningsTo(user)).toHaveLength(1);
    await tick(active + 53 * DAY);
    expect(warningsTo(user)).toHaveLength(2);
    await tick(active + 60 * DAY - HOUR);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    await tick(active + 60 * DAY);
    expect((await workspaceRow(workspaceId))!.state).toBe("deleted");
    expect(await volumeExists(workspaceId)).toBe(false);
    expect(await inactivityAudits(user.id)).toHaveLength(1);
  });

  it("the end of a session is activity: a disconnect after the warning voids it", async () => {
    const { user, workspaceId, base } = await inactiveHotWorkspace(54);
    await tick(base + 53 * DAY);
    expect(warningsTo(user)).toHaveLength(1);
    // Only the session's end is recent: sign-in and connect stay 54 days back.
    await db.prepare("update sessions set ended_at = ? where user_id = ?").bind(base + 54 * DAY, user.id).run();
    await tick(base + 60 * DAY);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    await tick(base + 54 * DAY + 53 * DAY);
    expect(warningsTo(user)).toHaveLength(2);
  });

  it("a cron that was down past day 60 warns first and deletes 7 days after the warning, never before", async () => {
    const { user, workspaceId, base } = await inactiveHotWorkspace(55);
    await tick(base + 80 * DAY);
    expect(warningsTo(user)).toHaveLength(1);
    expect(warningsTo(user)[0]!.text).toContain(new Date(base + 87 * DAY).toISOString().slice(0, 10));
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    await tick(base + 87 * DAY - HOUR);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    await tick(base + 87 * DAY);
    expect((await workspaceRow(workspaceId))!.state).toBe("deleted");
    expect(await volumeExists(workspaceId)).toBe(false);
  });

  it("a cold workspace (set up directly: R2 object and archive row, state cold, no host) is deleted from R2 too", async () => {
    const user = await entitledUser();
    const base = Date.now() - 55 * DAY;
    const workspaceId = await coldWorkspace(user, base);
    await tick(base + 53 * DAY);
    expect(warningsTo(user)).toHaveLength(1);
    await tick(base + 59 * DAY);
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).not.toBeNull();

    await tick(base + 60 * DAY);
    expect(await workspaceRow(workspaceId)).toMatchObject({ state: "deleted", deleted_at: base + 60 * DAY });
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).toBeNull();
    expect(await archiveRow(workspaceId)).toBeNull();
    expect(await inactivityAudits(user.id)).toHaveLength(1);
  });

  it("a workspace with a live session is never warned about or deleted, even with a warning standing from before", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    const workspaceId = started.json.workspaceId as string;
    const base = Date.now() - 55 * DAY;
    await lastActiveAt(user.id, workspaceId, base);
    await tick(base + 53 * DAY);
    expect(warningsTo(user)).toEqual([]);
    // A warning that would otherwise make it due at day 60.
    await db.prepare("update workspaces set deletion_warned_at = ? where id = ?").bind(base + 53 * DAY, workspaceId).run();
    await tick(base + 60 * DAY);
    await tick(base + 100 * DAY);
    expect((await workspaceRow(workspaceId))!.state).toBe("hot");
    expect((await containersOf(user.id)).map((c) => c.sessionId)).toEqual([started.json.id]);
    expect(await inactivityAudits(user.id)).toEqual([]);
  });

  it("two overlapping runs of the same tick send one warning and delete once, with one audit row", async () => {
    const { user, workspaceId, base } = await inactiveHotWorkspace(55);
    await Promise.all([tick(base + 53 * DAY), tick(base + 53 * DAY), tick(base + 53 * DAY)]);
    expect(warningsTo(user)).toHaveLength(1);
    await Promise.all([tick(base + 60 * DAY), tick(base + 60 * DAY), tick(base + 60 * DAY)]);
    expect((await workspaceRow(workspaceId))!.state).toBe("deleted");
    expect(await volumeExists(workspaceId)).toBe(false);
    expect(await inactivityAudits(user.id)).toHaveLength(1);
  });

  it("a workspace being archived is cancelled first (archive not committed) and deleted; one being restored waits", async () => {
    const archiving = await inactiveHotWorkspace(55);
    const restoring = await inactiveHotWorkspace(55);
    await tick(archiving.base + 53 * DAY);
    const base = Math.max(archiving.base, restoring.base);
    await tick(base + 53 * DAY);
    await archiveStarted(archiving.user, archiving.workspaceId, base);
    await db.prepare("update workspaces set state = 'restoring', transfer_bytes = 10 where id = ?").bind(restoring.workspaceId).run();
    await tick(base + 60 * DAY + HOUR);
    expect((await workspaceRow(archiving.workspaceId))!.state).toBe("deleted");
    expect(await volumeExists(archiving.workspaceId)).toBe(false);
    expect(await archiveRow(archiving.workspaceId)).toBeNull();
    expect((await workspaceRow(restoring.workspaceId))!.state).toBe("restoring");
    expect(await volumeExists(restoring.workspaceId)).toBe(true);
    // Once the restore settled (to hot, with no new activity), the next tick deletes it.
    await db.prepare("update workspaces set state = 'hot', transfer_bytes = null where id = ?").bind(restoring.workspaceId).run();
    await tick(base + 60 * DAY + 2 * HOUR);
    expect((await workspaceRow(restoring.workspaceId))!.state).toBe("deleted");
    expect(await inactivityAudits(restoring.user.id)).toHaveLength(1);
  });
});

describe("workspace status (GET /v1/workspace)", () => {
  it("a hot workspace shows its last activity and the date it would be deleted; none while a session is live", async () => {
    const user = await entitledUser();
    const started = await connect(user);
    expect(started.status, started.text).toBe(201);
    const live = await status(user);
    expect(live.status, live.text).toBe(200);
    expect(live.json).toMatchObject({ state: "hot", deletesAt: null, transfer: null });

    const ended = await call("POST", `/v1/sessions/${started.json.id}/disconnect`, { ip: user.ip, token: user.accessToken });
    const res = await status(user);
    const { at } = (await db.prepare("select last_active_at as at from users where id = ?").bind(user.id).first<{ at: number }>())!;
    const lastActivity = Math.max(at, Date.parse(ended.json.endedAt), Date.parse(res.json.lastUsedAt));
    expect(res.json).toMatchObject({ state: "hot", lastActivityAt: new Date(lastActivity).toISOString(), transfer: null, session: null });
    expect(res.json.deletesAt).toBe(new Date(lastActivity + WORKSPACE_RETENTION_DAYS * DAY).toISOString());
  });

  it("cold: the archive's size; archiving and restoring: transfer progress against the total", async () => {
    const user = await entitledUser();
    const bytes = new Uint8Array(1234);
    const workspaceId = await coldWorkspace(user, Date.now(), bytes);
    const cold = await status(user);
    expect(cold.status, cold.text).toBe(200);
    expect(cold.json).toMatchObject({ id: workspaceId, state: "cold", sizeBytes: 1234, transfer: null });

    await db.prepare("update workspaces set state = 'restoring', transfer_bytes = 1000 where id = ?").bind(workspaceId).run();
    expect((await status(user)).json).toMatchObject({ state: "restoring", transfer: { bytes: 1000, totalBytes: 1234 } });

    // Archiving before the host's tar size is known: the workspace's last measured size is the total.
    await db.batch([
      db.prepare("update workspaces set state = 'archiving', transfer_bytes = 200 where id = ?").bind(workspaceId),
      db.prepare("update workspace_archives set size_bytes = null, phase = 'uploading' where workspace_id = ?").bind(workspaceId),
    ]);
    expect((await status(user)).json).toMatchObject({ state: "archiving", sizeBytes: 4096, transfer: { bytes: 200, totalBytes: 4096 } });
  });

  it("the date moves to 7 days after a warning when the warning came late", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now());
    const res1 = await status(user);
    const lastActivity = Date.parse(res1.json.lastActivityAt);
    // As if warned 58 days after that activity (a cron that was down).
    const warnedAt = lastActivity + 58 * DAY;
    await db.prepare("update workspaces set deletion_warned_at = ? where id = ?").bind(warnedAt, workspaceId).run();
    const res = await status(user);
    expect(res.json.deletesAt).toBe(new Date(warnedAt + DELETION_WARNING_DAYS * DAY).toISOString());
  });
});

describe("destroy of cold and in-transfer workspaces (DELETE /v1/workspace)", () => {
  it("cold: removes the R2 object and the archive row, logs destroy", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now());
    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ id: workspaceId, state: "deleted", deletesAt: null });
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).toBeNull();
    expect(await archiveRow(workspaceId)).toBeNull();
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["destroy"]);
    expectProblem(await status(user), 404, "not_found");
  });

  it("cold, with R2 failing (binding wrapper whose delete throws): 503 cold_storage_unavailable with Retry-After, kept `deleting`; the next destroy finishes it", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now());
    const failingR2 = new Proxy(env.WORKSPACES, {
      get(target, name) {
        if (name === "delete") return () => Promise.reject(new Error("simulated R2 outage"));
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const failed = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken, env: { ...testEnv(), WORKSPACES: failingR2 } as Cloudflare.Env });
    expectProblem(failed, 503, "cold_storage_unavailable");
    expect(failed.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).not.toBeNull();
    expect(await archiveRow(workspaceId)).not.toBeNull();
    expect((await db.prepare("select state from workspaces where id = ?").bind(workspaceId).first<{ state: string }>())?.state).toBe("deleting");
    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).toBeNull();
    expect(await archiveRow(workspaceId)).toBeNull();
  });

  it("archiving, not committed: the archive is cancelled (upload aborted, object gone) and the hot volume deleted", async () => {
    const { user, workspaceId } = await inactiveHotWorkspace(0);
    const key = coldObjectKey(workspaceId);
    const upload = await archiveStarted(user, workspaceId, Date.now());
    const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.json.state).toBe("deleted");
    expect(await volumeExists(workspaceId)).toBe(false);
    expect(await archiveRow(workspaceId)).toBeNull();
    await expect(env.WORKSPACES.resumeMultipartUpload(key, upload.uploadId).complete([])).rejects.toThrow();
  });

  it("archiving with the archive committed, or restoring: 409 workspace_busy with Retry-After, nothing deleted", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now());
    for (const [state, phase] of [
      ["archiving", "committed"],
      ["restoring", "complete"],
    ] as const) {
      await db.batch([
        db.prepare("update workspaces set state = ? where id = ?").bind(state, workspaceId),
        db.prepare("update workspace_archives set phase = ? where workspace_id = ?").bind(phase, workspaceId),
      ]);
      const res = await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken });
      expectProblem(res, 409, "workspace_busy");
      expect(res.headers.get("Retry-After")).toBe("30");
      expect((await workspaceRow(workspaceId))!.state).toBe(state);
      expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).not.toBeNull();
    }
  });
});

describe("deleted accounts", () => {
  it("account deletion deletes a cold workspace's R2 copy", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now());
    const res = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
    expect(res.status, res.text).toBe(202);
    expect((await workspaceRow(workspaceId))!.state).toBe("deleted");
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).toBeNull();
  });

  it("a deleted account's workspace its deletion could not destroy (a restore then in progress) is finished by the job, without an email", async () => {
    const user = await entitledUser();
    const workspaceId = await coldWorkspace(user, Date.now() - 90 * DAY);
    await db.prepare("update workspaces set state = 'restoring' where id = ?").bind(workspaceId).run();
    const res = await call("DELETE", "/v1/account", { ip: user.ip, token: user.accessToken, body: { password: user.password } });
    expect(res.status, res.text).toBe(202);
    expect((await workspaceRow(workspaceId))!.state).toBe("restoring");
    // The restore failed and left the cold copy authoritative.
    await db.prepare("update workspaces set state = 'cold' where id = ?").bind(workspaceId).run();
    await tick(Date.now() + HOUR);
    expect((await workspaceRow(workspaceId))!.state).toBe("deleted");
    expect(await env.WORKSPACES.head(coldObjectKey(workspaceId))).toBeNull();
    expect(warningsTo(user)).toEqual([]);
    expect(await inactivityAudits(user.id)).toEqual([]);
  });
});
