/**
 * GET /v1/workspace `movesToColdStorageAt`: the date the API shows is the one the archive job
 * keeps — a tick a minute before it leaves the workspace hot, the first tick after it claims it.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../workers/index";
import { call, testEnv } from "./harness";
import { connect, entitledUser } from "./provisioner-harness";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

async function tick(scheduledTime: number) {
  const controller = createScheduledController({ cron: "* * * * *", scheduledTime });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, { ...testEnv(), COLD_STORAGE_PART_MIB: "5" } as Cloudflare.Env, ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

const stateOf = async (workspaceId: string) => (await env.DB.prepare("select state from workspaces where id = ?").bind(workspaceId).first<{ state: string }>())?.state;

describe("GET /v1/workspace movesToColdStorageAt", () => {
  it("null while a session is live; after it, 7 days (WORKSPACE_COLD_AFTER_DAYS) past the session's end, the minute the archive job takes it", async () => {
    const user = await entitledUser();
    const session = await connect(user);
    expect(session.status, session.text).toBe(201);
    const live = await call("GET", "/v1/workspace", { token: user.accessToken, ip: user.ip });
    expect(live.json).toMatchObject({ state: "hot", movesToColdStorageAt: null });

    const ended = await call("POST", `/v1/sessions/${session.json.id}/disconnect`, { token: user.accessToken, ip: user.ip });
    expect(ended.status, ended.text).toBe(200);
    const idle = await call("GET", "/v1/workspace", { token: user.accessToken, ip: user.ip });
    const lastUse = Math.max(Date.parse(ended.json.endedAt), Date.parse(idle.json.lastUsedAt));
    expect(idle.json.movesToColdStorageAt).toBe(new Date(lastUse + 7 * DAY).toISOString());

    const at = Date.parse(idle.json.movesToColdStorageAt);
    await tick(at - MINUTE);
    expect(await stateOf(session.json.workspaceId)).toBe("hot");
    await tick(at + MINUTE);
    expect(["archiving", "cold"]).toContain(await stateOf(session.json.workspaceId));
    const moving = await call("GET", "/v1/workspace", { token: user.accessToken, ip: user.ip });
    expect(moving.json.movesToColdStorageAt).toBeNull();
  });
});
