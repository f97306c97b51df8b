/**
 * GET /v1/sessions/{id}/metrics: a session's per-minute samples for its owner, polled with since,
 * bounded pages, and one indexed range read of usage_samples.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { toSample } from "../workers/domain/usage/samples";
import { call, createUser, expectProblem, insertSession, type TestUser } from "./harness";

const MINUTE = 60_000;
const T0 = Date.UTC(2032, 0, 10, 12, 0);

/** `count` samples of the session, one a minute from T0; GPU figures unknown on every third. */
async function seed(user: TestUser, sessionId: string, count: number) {
  const statements = Array.from({ length: count }, (_, i) =>
    env.DB.prepare(
      "insert into usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, gpus, cpu_percent, memory_used_bytes, shells_attached) values (?, ?, ?, 2, ?, ?, ?, 163840, ?, ?, ?, ?)",
    ).bind(
      sessionId,
      user.id,
      T0 + i * MINUTE,
      i % 3 === 2 ? null : i,
      i % 3 === 2 ? null : i + 1,
      1000 + i,
      // Per-GPU figures; the first samples predate them (null).
      i < 5 ? null : JSON.stringify([gpu(i % 3 === 2 ? null : i - 1, 400 + i), gpu(i % 3 === 2 ? null : i + 1, 600)]),
      50 + i,
      1_000_000 + i,
      i % 2,
    ),
  );
  for (let i = 0; i < statements.length; i += 50) await env.DB.batch(statements.slice(i, i + 50));
}

const gpu = (utilizationPercent: number | null, memoryUsedMb: number) => ({ utilizationPercent, memoryUsedMb, memoryTotalMb: 81920 });

const metrics = (user: TestUser, sessionId: string, query = "") => call("GET", `/v1/sessions/${sessionId}/metrics${query}`, { ip: user.ip, token: user.accessToken });
const minutesOf = (json: { samples: { at: string }[] }) => json.samples.map((s) => (Date.parse(s.at) - T0) / MINUTE);

describe("a usage sample keeps each GPU's figures", () => {
  it("in the container's GPU order, unreadable ones null, beside the sums and the mean", () => {
    const sample = toSample({ id: "s", userId: "u" }, new Date(T0), {
      sessionId: "s",
      tenantId: "u",
      state: "running",
      cpuPercent: 12.5,
      memoryUsedBytes: 1e6,
      gpus: [
        { utilizationPercent: 90, memoryUsedMb: 1000.4, memoryTotalMb: 81920 },
        { utilizationPercent: null, memoryUsedMb: 20, memoryTotalMb: 81920 },
      ],
      shell: { attached: 0 },
    });
    expect(sample).toMatchObject({ gpuCount: 2, gpuUtilizationPercent: null, gpuMemoryUsedMb: 1020, gpuMemoryTotalMb: 163840 });
    expect(sample.gpus).toEqual([
      { utilizationPercent: 90, memoryUsedMb: 1000, memoryTotalMb: 81920 },
      { utilizationPercent: null, memoryUsedMb: 20, memoryTotalMb: 81920 },
    ]);
  });
});

describe("GET /v1/sessions/{id}/metrics", () => {
  it("without since: the latest samples, oldest first, with every figure the sample holds", async () => {
    const user = await createUser();
    const sessionId = await insertSession(user.id, { start: T0 - MINUTE, end: null, gpuCount: 2 });
    await seed(user, sessionId, 100);
    const res = await metrics(user, sessionId);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ sessionId, state: "running", truncated: true, next: new Date(T0 + 99 * MINUTE).toISOString() });
    expect(minutesOf(res.json)).toEqual(Array.from({ length: 60 }, (_, i) => 40 + i));
    expect(res.json.samples.at(-1)).toEqual({
      at: new Date(T0 + 99 * MINUTE).toISOString(),
      gpuCount: 2,
      gpuUtilizationPercent: 99,
      gpuUtilizationMaxPercent: 100,
      gpuMemoryUsedMb: 1099,
      gpuMemoryTotalMb: 163840,
      gpus: [gpu(98, 499), gpu(100, 600)],
      cpuPercent: 149,
      memoryUsedBytes: 1_000_099,
      shellsAttached: 1,
    });
    // A figure the host could not read stays null.
    expect(res.json.samples.find((s: { at: string }) => s.at === new Date(T0 + 98 * MINUTE).toISOString())).toMatchObject({ gpuUtilizationPercent: null, gpuUtilizationMaxPercent: null });
    expect(minutesOf((await metrics(user, sessionId, "?limit=3")).json)).toEqual([97, 98, 99]);
    expect((await metrics(user, sessionId, `?since=${T0 - 1}&limit=6`)).json.samples.map((s: { gpus: unknown }) => s.gpus)).toEqual([null, null, null, null, null, [gpu(null, 405), gpu(null, 600)]]);
  });

  it("with since (ISO or ms): only later samples, a bounded page at a time, and next to poll with", async () => {
    const user = await createUser();
    const sessionId = await insertSession(user.id, { start: T0 - MINUTE, end: null, gpuCount: 2 });
    await seed(user, sessionId, 10);
    const iso = await metrics(user, sessionId, `?since=${new Date(T0 + 4 * MINUTE).toISOString()}&limit=3`);
    expect(iso.status, iso.text).toBe(200);
    expect(minutesOf(iso.json)).toEqual([5, 6, 7]);
    expect(iso.json).toMatchObject({ truncated: true, next: new Date(T0 + 7 * MINUTE).toISOString() });
    const rest = await metrics(user, sessionId, `?since=${encodeURIComponent(iso.json.next)}`);
    expect(minutesOf(rest.json)).toEqual([8, 9]);
    expect(rest.json.truncated).toBe(false);
    // Nothing new yet: an empty page that keeps the same since.
    const idle = await metrics(user, sessionId, `?since=${T0 + 9 * MINUTE}`);
    expect(idle.json).toMatchObject({ samples: [], truncated: false, next: new Date(T0 + 9 * MINUTE).toISOString() });
    expect(minutesOf((await metrics(user, sessionId, `?since=${T0 + 8 * MINUTE - 1}`)).json)).toEqual([8, 9]);
  });

  it("an ended session's series stays readable; one with no samples is empty", async () => {
    const user = await createUser();
    const ended = await insertSession(user.id, { start: T0, end: T0 + 5 * MINUTE });
    await seed(user, ended, 3);
    expect((await metrics(user, ended)).json).toMatchObject({ state: "ended", truncated: false });
    const fresh = await insertSession(user.id, { start: T0, end: null });
    expect((await metrics(user, fresh)).json).toMatchObject({ samples: [], truncated: false, next: null });
  });

  it.each(["?since=yesterday", "?since=2032-13-45T00:00:00Z", "?since=-5", "?limit=0", "?limit=1441", "?limit=x"])("%s: 400 validation_failed", async (query) => {
    const user = await createUser();
    const sessionId = await insertSession(user.id, { start: T0, end: null });
    expectProblem(await metrics(user, sessionId, query), 400, "validation_failed");
  });

  it("another user's session is not found, like one that does not exist", async () => {
    const owner = await createUser();
    const sessionId = await insertSession(owner.id, { start: T0, end: null });
    await seed(owner, sessionId, 5);
    const stranger = await createUser();
    const res = await metrics(stranger, sessionId);
    expectProblem(res, 404, "not_found");
    expect(res.text).not.toContain("gpuUtilization");
    expectProblem(await metrics(stranger, "ses-none"), 404, "not_found");
    expectProblem(await call("GET", `/v1/sessions/${sessionId}/metrics`, {}), 401, "unauthorized");
  });

  it("is one range read of the (session_id, at) index, with since or without", async () => {
    for (const sql of [
      "select * from usage_samples where session_id = 'x' and user_id = 'u' and at > 5 order by at asc limit 61",
      "select * from usage_samples where session_id = 'x' and user_id = 'u' order by at desc limit 61",
    ]) {
      const { results } = await env.DB.prepare(`explain query plan ${sql}`).all<{ detail: string }>();
      const plan = results.map((r) => r.detail).join(" | ");
      expect(plan, plan).toMatch(/SEARCH usage_samples USING INDEX usage_samples_session_at \(session_id=\?( AND at>\?)?\)/);
      expect(plan).not.toMatch(/TEMP B-TREE|SCAN usage_samples/);
    }
  });
});
