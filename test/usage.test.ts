/** GET /v1/usage: the owner's sessions in a window, with time, metrics summary and cost. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, insertSession, type TestUser } from "./harness";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const db = env.DB;
const usage = (user: TestUser, query: string) => call("GET", `/v1/usage${query}`, { ip: user.ip, token: user.accessToken });

const sample = (sessionId: string, userId: string, at: number, util: number, max: number, vram: number) =>
  db
    .prepare("insert into usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, shells_attached) values (?, ?, ?, 1, ?, ?, ?, 0)")
    .bind(sessionId, userId, at, util, max, vram);

describe("GET /v1/usage", () => {
  it("lists the owner's sessions in the window with time clipped to it, a metrics summary and cost", async () => {
    const user = await createUser();
    const other = await createUser();
    // Within the days the per-minute samples are kept (older hours are read from their rollups).
    const from = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
    const inside = await insertSession(user.id, { planId: "h100-1", gpuCount: 1, start: from + HOUR, end: from + 3 * HOUR });
    const straddling = await insertSession(user.id, { planId: "cpu-small", gpuCount: 0, start: from - HOUR, end: from + HOUR });
    await insertSession(user.id, { planId: "h100-1", gpuCount: 1, start: from - 3 * HOUR, end: from - 2 * HOUR });
    await insertSession(other.id, { planId: "h100-1", gpuCount: 1, start: from + HOUR, end: from + 2 * HOUR });
    await db.batch([sample(inside, user.id, from + HOUR + 60_000, 20, 30, 1000), sample(inside, user.id, from + HOUR + 120_000, 40, 90, 3000)]);

    const res = await usage(user, `?from=${isoDay(from)}&to=${isoDay(from + DAY)}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.from).toBe(new Date(from).toISOString());
    expect(res.json.sessions.map((s: { id: string }) => s.id)).toEqual([straddling, inside]);
    const [cpu, gpu] = res.json.sessions;
    expect(cpu).toMatchObject({ seconds: 3600, gpuSeconds: 0, costCents: 5, metrics: { samples: 0, avgGpuUtilizationPercent: null } });
    expect(gpu).toMatchObject({ seconds: 7200, gpuSeconds: 7200, costCents: 500, metrics: { samples: 2, avgGpuUtilizationPercent: 30, maxGpuUtilizationPercent: 90, maxGpuMemoryUsedMb: 3000 } });
    expect(res.json.totals).toEqual({ seconds: 10_800, gpuSeconds: 7200, costCents: 505 });
    expect(res.json.truncated).toBe(false);
  });

  it("shows this month so far against the limit the user set, whatever the window (other users' time not counted)", async () => {
    const user = await createUser();
    const other = await createUser();
    const now = Date.now();
    const at = new Date(now);
    const monthStart = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
    // Ended before this request, straddling the month's start: only the part inside the month counts.
    const end = Math.min(now - 1000, monthStart + HOUR);
    await insertSession(user.id, { planId: "cpu-small", gpuCount: 0, start: monthStart - 2 * HOUR, end });
    await insertSession(user.id, { planId: "cpu-small", gpuCount: 0, start: monthStart - 5 * HOUR, end: monthStart - 4 * HOUR });
    await insertSession(other.id, { planId: "cpu-small", gpuCount: 0, start: monthStart, end });
    const month = at.toISOString().slice(0, 7);

    const before = await usage(user, "?from=2020-01-01&to=2020-01-02");
    expect(before.status, before.text).toBe(200);
    expect(before.json.thisMonth).toEqual({ month, usedSeconds: Math.floor((end - monthStart) / 1000), limitHours: null, limitAction: "notify", sessionsRefused: false });
    const set = await call("PATCH", "/v1/account", { ip: user.ip, token: user.accessToken, body: { usageLimitHours: 50 } });
    expect(set.status, set.text).toBe(200);
    expect((await usage(user, "?from=2020-01-01&to=2020-01-02")).json.thisMonth).toEqual({ month, usedSeconds: Math.floor((end - monthStart) / 1000), limitHours: 50, limitAction: "notify", sessionsRefused: false });
  });

  it("400 for missing, malformed, reversed or too long windows; 401 without a token", async () => {
    const user = await createUser();
    for (const query of ["", "?from=2026-10-01", "?from=yesterday&to=2026-10-02", "?from=2026-10-02&to=2026-10-01", "?from=2026-10-01&to=2026-10-01", "?from=2025-01-01&to=2026-10-01", "?from=2026-13-01&to=2026-12-01"]) {
      expectProblem(await usage(user, query), 400, "validation_failed");
    }
    expect((await usage(user, "?from=2026-10-01T00:00:00Z&to=2026-10-01T12:00:00%2B02:00")).status).toBe(200);
    expectProblem(await call("GET", "/v1/usage?from=2026-10-01&to=2026-10-02", { ip: user.ip }), 401, "unauthorized");
  });

  it("is in the OpenAPI document as a protected route", async () => {
    const doc = (await call("GET", "/openapi.json")).json;
    const op = doc.paths["/v1/usage"].get;
    expect(op.security).toBeTruthy();
    expect(op.parameters.map((p: { name: string }) => p.name).sort()).toEqual(["from", "to"]);
  });
});
