/**
 * Usage samples rolled up: per-minute rows kept USAGE_SAMPLES_DAYS, hourly rows (means, peaks, VRAM
 * peaks per GPU, utilization bins) kept 12 months by the hourly `usage-rollup` job, idempotent
 * under repeated and overlapping ticks; the usage report and the operators' statistics read the
 * hourly rows once the samples are gone, with the same figures as before.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, insertSession, runCron, type TestUser, testEnv } from "./harness";

const HOURLY = "17 * * * *";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const db = env.DB;

const gpu = (utilizationPercent: number | null, memoryUsedMb: number) => ({ utilizationPercent, memoryUsedMb, memoryTotalMb: 81920 });

/** A two-GPU sample; mean and busiest utilization derived from the GPUs as the usage job does. */
const sample = (sessionId: string, userId: string, at: number, gpus: [ReturnType<typeof gpu>, ReturnType<typeof gpu>], cpu: number, memory: number) => {
  const utils = gpus.map((g) => g.utilizationPercent);
  const known = utils.every((u) => u !== null);
  const mean = known ? (utils as number[]).reduce((a, b) => a + b, 0) / 2 : null;
  const max = known ? Math.max(...(utils as number[])) : null;
  return db
    .prepare(
      "insert into usage_samples (session_id, user_id, at, gpu_count, gpu_utilization_percent, gpu_utilization_max_percent, gpu_memory_used_mb, gpu_memory_total_mb, gpus, cpu_percent, memory_used_bytes, shells_attached) values (?, ?, ?, 2, ?, ?, ?, 163840, ?, ?, ?, 0)",
    )
    .bind(sessionId, userId, at, mean, max, gpus[0].memoryUsedMb + gpus[1].memoryUsedMb, JSON.stringify(gpus), cpu, memory);
};

const hourlyRows = async (sessionId: string) =>
  (await db.prepare("select * from usage_hourly where session_id = ? order by hour").bind(sessionId).all<Record<string, unknown>>()).results.map((r): Record<string, unknown> => ({
    ...r,
    gpus: r.gpus === null ? null : JSON.parse(r.gpus as string),
    gpu_utilization_bins: JSON.parse(r.gpu_utilization_bins as string),
  }));

// Each test works in its own stretch of the past, later than the one before: the job rolls up
// from the last hour it wrote, as it does in production where samples only ever arrive at "now".
let nextStart = Math.floor(Date.now() / DAY) * DAY - 25 * DAY;
const freshHours = () => {
  const start = nextStart;
  nextStart += 5 * DAY;
  return start;
};

/** Two hours of a session: three samples in the first, two in the second. */
async function twoHours(user: TestUser, start: number) {
  const sessionId = await insertSession(user.id, { start, end: start + 2 * HOUR, planId: "h100-2", gpuCount: 2 });
  await db.batch([
    sample(sessionId, user.id, start + MINUTE, [gpu(10, 1000), gpu(20, 2000)], 50, 1_000),
    sample(sessionId, user.id, start + 2 * MINUTE, [gpu(30, 3000), gpu(90, 500)], 150, 4_000),
    sample(sessionId, user.id, start + 3 * MINUTE, [gpu(null, 1500), gpu(60, 2500)], 100, 2_000),
    sample(sessionId, user.id, start + HOUR + MINUTE, [gpu(80, 7000), gpu(80, 7000)], 200, 8_000),
    sample(sessionId, user.id, start + HOUR + 2 * MINUTE, [gpu(100, 6000), gpu(40, 100)], 100, 6_000),
  ]);
  return sessionId;
}

describe("the hourly usage rollup", () => {
  it("rolls each session-hour into means, peaks, per-GPU figures and utilization bins", async () => {
    const user = await createUser();
    const start = freshHours();
    const sessionId = await twoHours(user, start);
    await runCron(HOURLY, start + 2 * HOUR + 17 * MINUTE);
    const [first, second, ...rest] = await hourlyRows(sessionId);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      user_id: user.id,
      hour: start,
      samples: 3,
      gpu_count: 2,
      // Means of (15, 60) — the third sample had an unreadable GPU, so no mean.
      gpu_utilization_mean_percent: 37.5,
      gpu_utilization_samples: 2,
      gpu_utilization_max_percent: 90,
      gpu_memory_used_max_mb: 4000,
      gpu_memory_total_mb: 163840,
      gpus: [
        { utilizationMeanPercent: 20, utilizationMaxPercent: 30, memoryUsedMaxMb: 3000, memoryTotalMb: 81920 },
        { utilizationMeanPercent: 170 / 3, utilizationMaxPercent: 90, memoryUsedMaxMb: 2500, memoryTotalMb: 81920 },
      ],
      gpu_utilization_bins: [1, 0, 1, 0],
      cpu_mean_percent: 100,
      cpu_max_percent: 150,
      memory_used_max_bytes: 4_000,
    });
    expect(second).toMatchObject({ hour: start + HOUR, samples: 2, gpu_utilization_mean_percent: 75, gpu_utilization_max_percent: 100, gpu_memory_used_max_mb: 14000, gpu_utilization_bins: [0, 0, 1, 1] });
  });

  it("does not roll up the hour still in progress, and takes it on the next tick", async () => {
    const user = await createUser();
    const start = freshHours();
    const sessionId = await twoHours(user, start);
    await runCron(HOURLY, start + HOUR + 17 * MINUTE);
    expect((await hourlyRows(sessionId)).map((r) => r.hour)).toEqual([start]);
    await runCron(HOURLY, start + 2 * HOUR + 17 * MINUTE);
    expect((await hourlyRows(sessionId)).map((r) => r.hour)).toEqual([start, start + HOUR]);
  });

  it("is idempotent: repeated and overlapping ticks leave the same rows", async () => {
    const user = await createUser();
    const start = freshHours();
    const sessionId = await twoHours(user, start);
    const at = start + 2 * HOUR + 17 * MINUTE;
    await runCron(HOURLY, at);
    const once = await hourlyRows(sessionId);
    await Promise.all([runCron(HOURLY, at), runCron(HOURLY, at + 1), runCron(HOURLY, at + HOUR)]);
    expect(await hourlyRows(sessionId)).toEqual(once);
  });

  it("catches up hours missed while the job did not run, skipping hours without samples", async () => {
    const user = await createUser();
    const start = freshHours();
    const early = await twoHours(user, start);
    const late = await twoHours(user, start + 3 * DAY);
    await runCron(HOURLY, start + 3 * DAY + 5 * HOUR);
    expect((await hourlyRows(early)).map((r) => r.samples)).toEqual([3, 2]);
    expect((await hourlyRows(late)).map((r) => r.samples)).toEqual([3, 2]);
  });

  it("once the samples are purged (USAGE_SAMPLES_DAYS), the usage report reads the same figures from the hourly rows", async () => {
    const user = await createUser();
    const start = freshHours();
    await twoHours(user, start);
    const window = `?from=${new Date(start).toISOString().slice(0, 10)}&to=${new Date(start + DAY).toISOString().slice(0, 10)}`;
    const report = async (days?: string) => {
      const res = await call("GET", `/v1/usage${window}`, { ip: user.ip, token: user.accessToken, env: days ? ({ ...testEnv(), USAGE_SAMPLES_DAYS: days } as Cloudflare.Env) : undefined });
      expect(res.status, res.text).toBe(200);
      return res.json.sessions[0].metrics;
    };
    const fromSamples = await report();
    expect(fromSamples).toEqual({ samples: 5, avgGpuUtilizationPercent: 56.3, maxGpuUtilizationPercent: 100, maxGpuMemoryUsedMb: 14000 });

    await runCron(HOURLY, Date.now(), { USAGE_SAMPLES_DAYS: "2" });
    const left = await db.prepare("select count(*) as n from usage_samples where user_id = ?").bind(user.id).first<{ n: number }>();
    expect(left!.n).toBe(0);
    expect((await db.prepare("select count(*) as n from usage_hourly where user_id = ?").bind(user.id).first<{ n: number }>())!.n).toBe(2);
    expect(await report("2")).toEqual(fromSamples);
  });

  it("keeps the hourly rows 12 months and the samples at most 30 days, whatever the setting says", async () => {
    const user = await createUser();
    const start = freshHours();
    const sessionId = await twoHours(user, start);
    await runCron(HOURLY, start + 2 * HOUR + 17 * MINUTE);
    // A setting above 30 is refused: the job fails rather than keep samples longer.
    await expect(runCron(HOURLY, start + 31 * DAY, { USAGE_SAMPLES_DAYS: "90" })).rejects.toThrow();
    await runCron(HOURLY, start + 31 * DAY);
    expect((await db.prepare("select count(*) as n from usage_samples where session_id = ?").bind(sessionId).first<{ n: number }>())!.n).toBe(0);
    await runCron(HOURLY, start + 364 * DAY);
    expect(await hourlyRows(sessionId)).toHaveLength(2);
    await runCron(HOURLY, start + 366 * DAY);
    expect(await hourlyRows(sessionId)).toHaveLength(0);
  });
});
