import { availableParallelism } from "node:os";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HostMetrics } from "../src/metrics.ts";
import { cpuPlan, docker, startTestProvisioner, type TestProvisioner, tracker, WORKSPACE_IMAGE } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner(); // no nvidia-smi on this host
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

async function metrics(): Promise<HostMetrics> {
  const response = await provisioner.request("GET", "/v1/metrics");
  expect(response.status).toBe(200);
  return (await response.json()) as HostMetrics;
}

describe("GET /v1/metrics", () => {
  it("reports CPU and memory of a running container from Docker, and no GPU numbers without nvidia-smi", async () => {
    const ids = made.session();
    const created = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: { ...cpuPlan, cpus: 1 } } });
    const { containerId } = (await created.json()) as { containerId: string };
    // A busy loop for a few seconds, so the CPU figure has something to show.
    const busy = await docker.getContainer(containerId).exec({ Cmd: ["sh", "-c", "end=$(($(date +%s)+4)); while [ $(date +%s) -lt $end ]; do :; done"] });
    await busy.start({ Detach: true });

    const report = await metrics();
    expect(report.nvidiaSmiAvailable).toBe(false);
    expect(report.gpus).toEqual([]);
    const mine = report.containers.find((container) => container.sessionId === ids.sessionId);
    expect(mine).toMatchObject({ ...ids, containerId, state: "running", gpus: [], memoryLimitBytes: cpuPlan.memoryMb * 1024 * 1024 });
    expect(mine?.cpuPercent).toBeGreaterThan(10);
    expect(mine?.cpuPercent).toBeLessThanOrEqual(100 * availableParallelism());
    expect(mine?.memoryUsedBytes).toBeGreaterThan(0);
    expect(Date.parse(report.collectedAt)).not.toBeNaN();
  });

  it("reports null figures for a container that is not running, never zeros", async () => {
    const ids = made.session();
    await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan, start: false } });
    const mine = (await metrics()).containers.find((container) => container.sessionId === ids.sessionId);
    expect(mine).toMatchObject({ state: "created", cpuPercent: null, memoryUsedBytes: null, memoryLimitBytes: null });
  });
});
