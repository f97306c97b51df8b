/**
 * connect, status, disconnect, destroy, usage and limit as a user runs them: subprocesses against
 * the real Worker and the real provisioner on Docker (each connect starts a real container).
 */
import { describe, expect, inject, it } from "vitest";
import { d1, entitledUser, jsonOf, newConfigDir, ozekai, ozekaiInTerminal, readProfile, runningSessionRows, shown, signedInUser, type TestUser, usageSampleRow } from "./harness.ts";

/** The API as the user's own sign-in sees it, beside the CLI (to check what the CLI said). */
async function api(user: TestUser, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL(path, inject("apiUrl")), { headers: { Authorization: `Bearer ${readProfile(user.configDir).accessToken}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const run = (user: TestUser, ...args: string[]) => ozekai(args, { configDir: user.configDir });

describe("connect, status, disconnect", () => {
  it("connect waits until the container runs a command, says what bills and how to stop it; status and disconnect tell the truth about billing", async () => {
    const user = await entitledUser();

    const before = await run(user, "status");
    expect(before.code, shown(before)).toBe(0);
    expect(before.stdout).toContain("No session is running.");
    expect(before.stdout).toContain("Nothing is billing now.");

    const none = await run(user, "disconnect", "--json");
    expect(none.code, shown(none)).toBe(4);
    expect(jsonOf(none).error?.message).toContain("No session is running");

    const connected = await run(user, "connect", "--no-shell", "--json");
    expect(connected.code, shown(connected)).toBe(0);
    expect(connected.stderr).toContain("starting your session");
    expect(connected.stderr).toContain("checking that it runs a command");
    const data = jsonOf(connected).data as { session: { id: string; state: string; startedAt: string }; usable: boolean; resumed: boolean; billing: { planId: string; pricePerHourCents: number }; stop: string };
    expect(data).toMatchObject({ usable: true, resumed: false, stop: "ozekai disconnect", billing: { planId: "cpu-small" } });
    expect(data.billing.pricePerHourCents).toBeGreaterThan(0);
    const id = data.session.id;
    const seen = await api(user, `/v1/sessions/${id}`);
    expect(seen.body).toMatchObject({ id, state: "running" });
    expect(seen.body.startedAt).toBe(data.session.startedAt);

    // Connecting again resumes the same session: never a second one.
    const again = await run(user, "connect", "--no-shell");
    expect(again.code, shown(again)).toBe(0);
    expect(again.stderr).toContain("already running");
    expect(again.stdout).toContain(`session ${id}`);
    expect(again.stdout).toMatch(/Billing now: cpu-small at \$\d+\.\d\d\/h/);
    expect(again.stdout).toContain("`ozekai disconnect`");
    // Not a terminal: no hint to open a shell.
    expect(again.stdout).not.toContain("ozekai shell");

    const status = await run(user, "status");
    expect(status.code, shown(status)).toBe(0);
    expect(status.stdout).toContain(`${id} · running`);
    expect(status.stdout).toContain("Billing now: cpu-small");
    expect(status.stdout).not.toContain("Nothing is billing now");
    const statusJson = jsonOf(await run(user, "status", "--json")).data as { billingNow: boolean; session: { id: string; uptimeMs: number; costSoFarCents: number }; workspace: { state: string; deletesAt: string | null } };
    expect(statusJson.billingNow).toBe(true);
    expect(statusJson.session.id).toBe(id);
    expect(statusJson.session.uptimeMs).toBeGreaterThan(0);
    expect(statusJson.session.costSoFarCents).toBeGreaterThanOrEqual(0);
    expect(statusJson.workspace).toMatchObject({ state: "hot", deletesAt: null });

    const watchJson = await run(user, "status", "--watch", "--json");
    expect(watchJson.code, shown(watchJson)).toBe(2);
    expect(jsonOf(watchJson).error?.kind).toBe("usage");
    const watchPipe = await run(user, "status", "--watch");
    expect(watchPipe.code, shown(watchPipe)).toBe(2);
    expect(watchPipe.stderr).toContain("needs a terminal");

    const disconnected = await run(user, "disconnect");
    expect(disconnected.code, shown(disconnected)).toBe(0);
    expect(disconnected.stdout).toContain("Disconnected: billing stopped at");
    expect(disconnected.stdout).toContain("Your workspace is kept");
    expect(disconnected.stdout).toContain("cold storage");
    expect(disconnected.stdout).toMatch(/it will be deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect((await api(user, `/v1/sessions/${id}`)).body.state).toBe("ended");
    const workspace = (await api(user, "/v1/workspace")).body;
    expect(disconnected.stdout).toContain(String(workspace.deletesAt).slice(0, 10));
    expect(disconnected.stdout).toContain(`Unused until ${String(workspace.movesToColdStorageAt).slice(0, 16).replace("T", " ")} UTC, it may move to cold storage`);

    const after = await run(user, "status");
    expect(after.code, shown(after)).toBe(0);
    expect(after.stdout).toContain("Nothing is billing now.");
    expect(after.stdout).toMatch(/cold storage\s+from \d{4}-\d\d-\d\d \d\d:\d\d UTC if unused/);
    expect(jsonOf(await run(user, "status", "--json")).data).toMatchObject({ billingNow: false, session: null, metrics: null });
    expect(jsonOf(await run(user, "disconnect", "--json")).error?.exitCode).toBe(4);

    // The session is in this month's usage, as CSV with a header.
    const csv = await run(user, "usage", "--csv");
    expect(csv.code, shown(csv)).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split("\n").map((line) => line.split(","));
    expect(header).toEqual(["id", "planId", "gpuType", "gpuCount", "state", "startedAt", "endedAt", "seconds", "gpuSeconds", "costCents", "avgGpuUtilizationPercent", "maxGpuUtilizationPercent", "maxGpuMemoryUsedMb"]);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries(header!.map((name, i) => [name, rows[0]![i]]));
    expect(row).toMatchObject({ id, planId: "cpu-small", gpuCount: "0", state: "ended" });
    expect(Number(row.seconds)).toBeGreaterThanOrEqual(0);
    const table = await run(user, "usage");
    expect(table.stdout).toContain(id);
    expect(table.stdout).toContain("total:");
    const usageJson = jsonOf(await run(user, "usage", "--json")).data as { sessions: { id: string }[] };
    expect(usageJson.sessions.map((s) => s.id)).toEqual([id]);

    // Destroy asks for the username at a terminal: a wrong one deletes nothing.
    const wrong = await ozekaiInTerminal(["destroy"], [{ after: "Type your username", send: "someoneelse\r" }], { configDir: user.configDir });
    expect(wrong.code, wrong.screen).toBe(1);
    expect(wrong.screen).toContain(`This deletes your workspace ${workspace.id}`);
    expect(wrong.screen).toContain("Not deleted");
    expect((await api(user, "/v1/workspace")).status).toBe(200);
    const typed = await ozekaiInTerminal(["destroy"], [{ after: "Type your username", send: `${user.username}\r` }], { configDir: user.configDir });
    expect(typed.code, typed.screen).toBe(0);
    expect(typed.screen).toContain(`workspace ${workspace.id} is deleted`);
    expect((await api(user, "/v1/workspace")).status).toBe(404);
    const nothing = await run(user, "destroy", "--yes", "--json");
    expect(nothing.code, shown(nothing)).toBe(4);
  });

  it("destroy with a session running: without --yes and a terminal it refuses (exit 2); with --yes it ends the session and deletes the workspace", async () => {
    const user = await entitledUser();
    const connected = await run(user, "connect", "--no-shell", "--json");
    expect(connected.code, shown(connected)).toBe(0);
    const id = (jsonOf(connected).data as { session: { id: string } }).session.id;

    const refused = await run(user, "destroy");
    expect(refused.code, shown(refused)).toBe(2);
    expect(refused.stderr).toContain("pass --yes");
    expect((await api(user, `/v1/sessions/${id}`)).body.state).toBe("running");

    const destroyed = await run(user, "destroy", "--yes", "--json");
    expect(destroyed.code, shown(destroyed)).toBe(0);
    expect(destroyed.stderr).toContain(`running session ${id} ends first`);
    const data = jsonOf(destroyed).data as { workspace: { state: string }; endedSession: { id: string } };
    expect(data.workspace.state).toBe("deleted");
    expect(data.endedSession.id).toBe(id);
    expect((await api(user, `/v1/sessions/${id}`)).body.state).toBe("ended");
    expect((await run(user, "status")).stdout).toContain("Nothing is billing now.");
  });
});

describe("status of an idle session", () => {
  it("says when the idle rule disconnects it, as the API has it, beside each GPU's latest figures", async () => {
    const user = await signedInUser();
    const session = await runningSessionRows(user);
    try {
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      await d1([2, 1, 0].map((m) => usageSampleRow(session, minute - m * 60_000, { gpus: [[1, 300], [0, 200]], cpuPercent: 2, memoryMib: 512 })).join("; "));
      const at = (await api(user, `/v1/sessions/${session.sessionId}`)).body.idleDisconnectAt as string;
      expect(at).toBe(new Date(minute - 2 * 60_000 + 30 * 60_000).toISOString()); // wrangler.toml's IDLE_MINUTES after the first idle minute
      const status = await run(user, "status");
      expect(status.code, shown(status)).toBe(0);
      expect(status.stdout).toMatch(new RegExp(`\\bidle +disconnected at ${at.slice(0, 16).replace("T", " ")} UTC unless it is used before then\n`));
      expect(status.stdout).toMatch(/gpu 1 +0 % · 200 \/ 81920 MiB VRAM/);
      expect(jsonOf(await run(user, "status", "--json")).data).toMatchObject({ billingNow: true, session: { id: session.sessionId, idleDisconnectAt: at } });
    } finally {
      await session.end();
    }
  });
});

describe("limit and usage", () => {
  it("limit shows, sets, chooses disconnect, goes back to a notice and off: each as the API then has it", async () => {
    const user = await signedInUser();
    const shownLimit = jsonOf(await run(user, "limit", "--json"));
    expect(shownLimit.data).toMatchObject({ usageLimitHours: null, usageLimitAction: "notify", changed: false });

    const set = await run(user, "limit", "40");
    expect(set.code, shown(set)).toBe(0);
    expect(set.stdout).toContain("Monthly limit: 40 h");
    expect(set.stdout).toContain("an email");
    expect((await api(user, "/v1/account")).body).toMatchObject({ usageLimitHours: 40, usageLimitAction: "notify" });

    const disconnect = jsonOf(await run(user, "limit", "40", "--disconnect", "--json"));
    expect(disconnect.data).toMatchObject({ usageLimitHours: 40, usageLimitAction: "disconnect", changed: true, thisMonth: { limitHours: 40, limitAction: "disconnect", sessionsRefused: false } });
    expect((await run(user, "limit")).stdout).toContain("disconnected");

    expect(jsonOf(await run(user, "limit", "--notify", "--json")).data).toMatchObject({ usageLimitHours: 40, usageLimitAction: "notify" });
    const off = await run(user, "limit", "off");
    expect(off.code, shown(off)).toBe(0);
    expect(off.stdout).toContain("No monthly limit.");
    expect((await api(user, "/v1/account")).body.usageLimitHours).toBeNull();

    for (const args of [["limit", "abc"], ["limit", "0"], ["limit", "10001"], ["limit", "1.5"], ["limit", "5", "--disconnect", "--notify"]]) {
      const bad = await run(user, ...args, "--json");
      expect(bad.code, shown(bad)).toBe(2);
      expect(jsonOf(bad).error?.kind).toBe("usage");
      expect(bad.stderr).not.toMatch(/\n\s+at /); // never a stack trace
    }
  });

  it("usage: a window with no sessions, bad dates and --csv with --json are usage errors", async () => {
    const user = await signedInUser();
    const empty = await run(user, "usage", "--from", "2026-01-01", "--to", "2026-02-01");
    expect(empty.code, shown(empty)).toBe(0);
    expect(empty.stdout).toContain("No sessions in this window.");
    const csv = await run(user, "usage", "--csv", "--from", "2026-01-01", "--to", "2026-02-01");
    expect(csv.stdout.trim().split("\n")).toHaveLength(1);
    for (const args of [["--from", "yesterday"], ["--from", "2026-02-01", "--to", "2026-01-01"], ["--csv"]]) {
      const bad = await run(user, "usage", ...args, "--json");
      expect(bad.code, shown(bad)).toBe(2);
      expect(jsonOf(bad).ok).toBe(false);
    }
  });
});

describe("refusals", () => {
  it("not signed in: exit 3; no plan: the API's detail and request id, exit 1; a bad --timeout: exit 2", async () => {
    const nobody = { configDir: newConfigDir() };
    for (const command of ["connect", "disconnect", "destroy", "status", "usage", "limit"]) {
      const ran = await ozekai([command, "--json"], nobody);
      expect(ran.code, `${command}: ${shown(ran)}`).toBe(3);
      expect(jsonOf(ran).error?.kind).toBe("not_signed_in");
    }
    const user = await signedInUser();
    const refused = await run(user, "connect", "--no-shell", "--json");
    expect(refused.code, shown(refused)).toBe(1);
    const error = jsonOf(refused).error as { code: string; status: number; requestId: string; message: string };
    expect(["email_unverified", "no_plan"]).toContain(error.code);
    expect(error.requestId).toBeTruthy();
    expect(refused.stderr).toContain(`request id: ${error.requestId}`);
    expect(jsonOf(await run(user, "status", "--json")).data).toMatchObject({ billingNow: false });

    for (const timeout of ["abc", "0", "1.5"]) {
      const bad = await run(user, "connect", "--timeout", timeout);
      expect(bad.code, shown(bad)).toBe(2);
      expect(bad.stderr).toContain("--timeout takes whole seconds");
    }
  });
});
