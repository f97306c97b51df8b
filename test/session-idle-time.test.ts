/**
 * A session's `idleDisconnectAt`: when the idle rule (workers/domain/sessions/idle.ts) disconnects
 * it if it stays idle. The view and the idle-disconnect job read the same rule, so the job's first
 * minute to pick the session is the time the view announced; a busy or unreadable newest sample
 * means no time. Session rows are written straight to D1 (no container: nothing here calls a host).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDomainContext } from "../workers/context";
import { fixedClock } from "../workers/domain/context";
import { findIdleSessions, idleDisconnectAt } from "../workers/domain/sessions/idle";
import { call, createUser, insertSession, randomId, testEnv, type TestUser } from "./harness";

const MINUTE = 60_000;
/** wrangler.toml's IDLE_MINUTES, which the test env carries. */
const IDLE_MINUTES = 30;

/** Samples of a 2-GPU session at `at` (ms); idle unless `busy` overrides a figure. */
async function sample(user: TestUser, sessionId: string, ats: number[], busy: { gpuMax?: number | null; shells?: number } = {}) {
  await env.DB.batch(
    ats.map((at) =>
      env.DB.prepare(
        "insert into usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, cpu_percent, memory_used_bytes, shells_attached) values (?, ?, ?, 2, 1, ?, 500, 163840, 3, 1000000, ?)",
      ).bind(sessionId, user.id, at, busy.gpuMax === undefined ? 2 : busy.gpuMax, busy.shells ?? 0),
    ),
  );
}

const viewOf = async (user: TestUser, sessionId: string) => {
  const res = await call("GET", `/v1/sessions/${sessionId}`, { ip: user.ip, token: user.accessToken });
  expect(res.status, res.text).toBe(200);
  return res.json.idleDisconnectAt as string | null;
};

const contextAt = (at: number) => createDomainContext(testEnv(), { clock: fixedClock(at), actor: { kind: "system", job: "test" }, requestId: `test-${randomId()}`, waitUntil: () => undefined });

describe("idleDisconnectAt in the session view", () => {
  it("idle samples give the time the rule would disconnect; a busy or unreadable newest sample gives null", async () => {
    const user = await createUser();
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    const sessionId = await insertSession(user.id, { start: minute - 10 * MINUTE, end: null, gpuCount: 2 });
    expect(await viewOf(user, sessionId)).toBeNull(); // no sample yet: nothing proves it idle

    await sample(user, sessionId, [minute - 3 * MINUTE, minute - 2 * MINUTE, minute - MINUTE, minute]);
    expect(await viewOf(user, sessionId)).toBe(new Date(minute - 3 * MINUTE + IDLE_MINUTES * MINUTE).toISOString());
    const listed = await call("GET", "/v1/sessions", { ip: user.ip, token: user.accessToken });
    expect(listed.json.sessions).toMatchObject([{ id: sessionId, idleDisconnectAt: new Date(minute + (IDLE_MINUTES - 3) * MINUTE).toISOString() }]);

    await env.DB.prepare("update usage_samples set gpu_utilization_max_percent = 90 where session_id = ? and at = ?").bind(sessionId, minute).run();
    expect(await viewOf(user, sessionId)).toBeNull();
    await env.DB.prepare("update usage_samples set gpu_utilization_max_percent = null where session_id = ? and at = ?").bind(sessionId, minute).run();
    expect(await viewOf(user, sessionId)).toBeNull(); // a figure the host could not read proves nothing
    await env.DB.prepare("update usage_samples set gpu_utilization_max_percent = 2, shells_attached = 1 where session_id = ? and at = ?").bind(sessionId, minute).run();
    expect(await viewOf(user, sessionId)).toBeNull(); // a shell attached
  });

  it("an ended session, or another user's, has none", async () => {
    const user = await createUser();
    const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
    const ended = await insertSession(user.id, { start: minute - 10 * MINUTE, end: minute });
    await sample(user, ended, [minute - 2 * MINUTE, minute - MINUTE]);
    expect(await viewOf(user, ended)).toBeNull();
    const stranger = await createUser();
    expect((await call("GET", `/v1/sessions/${ended}`, { ip: stranger.ip, token: stranger.accessToken })).status).toBe(404);
  });

  it("is the minute the idle-disconnect job first picks the session, counted from the first idle minute after a busy one", async () => {
    const user = await createUser();
    const t0 = Date.UTC(2033, 2, 1, 9, 0);
    const sessionId = await insertSession(user.id, { start: t0 - 30_000, end: null, gpuCount: 2 });
    const session = (await (await contextAt(t0)).db.query.sessions.findFirst({ where: (s, { eq }) => eq(s.id, sessionId) }))!;
    const at = (m: number) => t0 + m * MINUTE;
    await sample(user, sessionId, [0, 1, 2, 3, 4].map(at));
    await sample(user, sessionId, [at(5)], { gpuMax: 80 });

    const announced = new Set<number | null>();
    let pickedAt: number | undefined;
    for (let m = 5; m <= 5 + IDLE_MINUTES + 2 && pickedAt === undefined; m++) {
      if (m > 5) await sample(user, sessionId, [at(m)]);
      const ctx = await contextAt(at(m));
      const time = (await idleDisconnectAt(ctx, session))?.getTime() ?? null;
      if (m === 5) expect(time, "the newest sample is busy").toBeNull();
      else announced.add(time);
      if ((await findIdleSessions(ctx, ctx.config.idle, 1000)).some((s) => s.id === sessionId)) pickedAt = at(m);
    }
    // One time, announced from the first idle minute on, and the job acts at exactly that minute.
    expect([...announced]).toEqual([at(6 + IDLE_MINUTES)]);
    expect(pickedAt).toBe(at(6 + IDLE_MINUTES));
  });
});
