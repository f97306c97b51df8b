/**
 * `ozekai connect` where it waits longest or is refused: through a restore from cold storage (the
 * Worker's archive cron moved the workspace there), past its --timeout, and at a usage limit the
 * user chose to be disconnected at (the usage-limit cron). Cron ticks are the shared Worker's own
 * scheduled handler (harness cronTick), with the real provisioner and the local R2.
 */
import { describe, expect, inject, it } from "vitest";
import { CRON, cronTick, d1, entitledUser, jsonOf, ozekai, readProfile, shown, startProxy, type TestUser } from "./harness.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

const run = (user: TestUser, ...args: string[]) => ozekai(args, { configDir: user.configDir });

async function workspaceOf(user: TestUser): Promise<{ state: string; sizeBytes: number | null }> {
  const response = await fetch(`${inject("apiUrl")}/v1/workspace`, { headers: { Authorization: `Bearer ${readProfile(user.configDir).accessToken}` } });
  if (response.status !== 200) throw new Error(`GET /v1/workspace: ${response.status} ${await response.text()}`);
  return (await response.json()) as { state: string; sizeBytes: number | null };
}

const sessionIdOf = (ran: Awaited<ReturnType<typeof ozekai>>) => (jsonOf(ran).data as { session: { id: string } }).session.id;

/** Only an id the API made goes into SQL. */
const checkedId = (id: string) => {
  if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new Error(`unexpected id ${id}`);
  return id;
};

describe("connect through a restore from cold storage", () => {
  it("a workspace unused past WORKSPACE_COLD_AFTER_DAYS goes to cold storage; connect shows the restore, ends usable, and the file is back", async () => {
    const user = await entitledUser();
    const first = await run(user, "connect", "--no-shell", "--json");
    expect(first.code, shown(first)).toBe(0);
    expect((jsonOf(first).data as { restoredFromColdStorage: boolean }).restoredFromColdStorage).toBe(false);
    const marker = `kept through cold storage ${crypto.randomUUID()}`;
    const wrote = await run(user, "exec", "--", "sh", "-c", `printf '%s' "${marker}" > /workspace/kept.txt`);
    expect(wrote.code, shown(wrote)).toBe(0);
    const disconnected = await run(user, "disconnect");
    expect(disconnected.code, shown(disconnected)).toBe(0);

    // Eight days on (wrangler.toml: WORKSPACE_COLD_AFTER_DAYS = 7) the archive job takes it. The
    // tick acts on every idle workspace of this run, oldest first, 20 a tick: a few ticks may pass
    // before this one's turn.
    const later = Date.now() + 8 * DAY_MS;
    let state = (await workspaceOf(user)).state;
    expect(state).toBe("hot");
    for (let tick = 0; tick < 15 && state !== "cold"; tick++) {
      await cronTick(CRON.everyMinute, later + tick * 60_000);
      state = (await workspaceOf(user)).state;
    }
    expect(state).toBe("cold");
    const status = await run(user, "status");
    expect(status.stdout).toMatch(/workspace +cold/);
    expect(status.stdout).toContain("there now (the next connect restores it)");
    expect(status.stdout).toContain("Nothing is billing now.");

    const restored = await run(user, "connect", "--no-shell", "--json");
    expect(restored.code, shown(restored)).toBe(0);
    expect(restored.stderr).toMatch(/your workspace is in cold storage \(\d+(\.\d)? (B|KiB|MiB)\): restoring it first…/);
    expect(restored.stderr).toContain("checking that it runs a command");
    const data = jsonOf(restored).data as { session: { id: string; state: string }; resumed: boolean; restoredFromColdStorage: boolean; usable: boolean; stop: string };
    expect(data).toMatchObject({ resumed: false, restoredFromColdStorage: true, usable: true, stop: "ozekai disconnect", session: { state: "running" } });
    expect((await workspaceOf(user)).state).toBe("hot");

    const read = await run(user, "exec", "--", "cat", "/workspace/kept.txt");
    expect(read.code, shown(read)).toBe(0);
    expect(read.stdout).toBe(marker);
    expect((await run(user, "disconnect")).code).toBe(0);
  }, 300_000);
});

describe("connect --timeout", () => {
  it("a session that runs but whose exec socket never answers: exit 6 at the timeout, saying it bills and how to stop it", async () => {
    const user = await entitledUser();
    // Between the CLI and the Worker, a network that swallows the exec upgrade and nothing else.
    const proxy = await startProxy({ stall: /^GET \/v1\/sessions\/[^/ ]+\/exec /m });
    try {
      const ran = await ozekai(["--api-url", proxy.url, "connect", "--no-shell", "--timeout", "20", "--json"], {
        configDir: user.configDir,
        // Sign-ins are kept per API URL: the proxy's address has none, the user's token goes as is.
        env: { OZEKAI_TOKEN: readProfile(user.configDir).accessToken },
      });
      expect(ran.code, shown(ran)).toBe(6);
      const error = jsonOf(ran).error as { kind: string; message: string };
      expect(error.kind).toBe("unavailable");
      const live = (jsonOf(await run(user, "status", "--json")).data as { session: { id: string; state: string } | null }).session;
      expect(live?.state).toBe("running");
      expect(error.message).toContain(`Your session ${live?.id} runs (and bills) but did not run a command within 20 s`);
      expect(error.message).toContain("`ozekai status`");
      expect(error.message).toContain("`ozekai disconnect` stops it");
      expect(ran.stderr).toContain(error.message);
    } finally {
      await proxy.close();
    }
    // What the message says works: the session bills until disconnected.
    expect((await run(user, "status")).stdout).toContain("Billing now: cpu-small");
    const stopped = await run(user, "disconnect");
    expect(stopped.code, shown(stopped)).toBe(0);
    expect((await run(user, "status")).stdout).toContain("Nothing is billing now.");
  }, 120_000);
});

/** The limit counts this UTC month only: in its first two hours no session can have run two hours of it. */
const monthTooYoung = (() => {
  const now = new Date();
  return now.getTime() - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) < 2.5 * 60 * 60 * 1000;
})();

describe("the usage limit", () => {
  it.skipIf(monthTooYoung)("with --disconnect: the usage-limit tick disconnects the running session; connect is refused with usage_limit_reached (exit 1)", async () => {
    const user = await entitledUser();
    const set = await run(user, "limit", "1", "--disconnect");
    expect(set.code, shown(set)).toBe(0);
    const connected = await run(user, "connect", "--no-shell", "--json");
    expect(connected.code, shown(connected)).toBe(0);
    const id = checkedId(sessionIdOf(connected));

    // The session has run for two hours this month, past the 1-hour limit (what the job reads:
    // started_at).
    await d1(`UPDATE sessions SET started_at = started_at - ${2 * 60 * 60 * 1000} WHERE id = '${id}' AND state = 'running'`);
    expect(jsonOf(await run(user, "limit", "--json")).data).toMatchObject({ thisMonth: { sessionsRefused: true } });
    await cronTick(CRON.everyMinute);

    const [row] = await d1(`SELECT state FROM sessions WHERE id = '${id}'`);
    expect(row?.state).toBe("ended");
    const status = await run(user, "status");
    expect(status.code, shown(status)).toBe(0);
    expect(status.stdout).toContain("No session is running.");
    expect(status.stdout).toContain("Your usage limit is reached");
    expect(status.stdout.trim().endsWith("Nothing is billing now.")).toBe(true);

    const refused = await run(user, "connect", "--no-shell", "--json");
    expect(refused.code, shown(refused)).toBe(1);
    expect(jsonOf(refused).error).toMatchObject({ kind: "error", status: 403, code: "usage_limit_reached", requestId: expect.any(String) });
    expect(refused.stderr).toContain("reached the 1-hour monthly limit you set");
    expect(jsonOf(await run(user, "status", "--json")).data).toMatchObject({ billingNow: false, session: null });

    // Removing the limit lets it start again.
    expect((await run(user, "limit", "off")).code).toBe(0);
    const again = await run(user, "connect", "--no-shell");
    expect(again.code, shown(again)).toBe(0);
    expect((await run(user, "disconnect")).code).toBe(0);
  }, 120_000);
});
