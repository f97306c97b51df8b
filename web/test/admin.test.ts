/**
 * The admin pages in Chromium against the real Worker: the privacy request queue (overdue first,
 * moved on from the page), plan grants and the minor flag, policy publishing, and the aggregate
 * statistics with the database's daily measurement. A plain user sees no admin link, and /admin
 * refuses without fetching the admin pages' code. Every error shown carries its request id.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { CRON, cronTick, d1, entitledUser, makeAdmin, runningSession, signedInUser, signUp, type TestUser } from "../../cli/test/harness.ts";
import { apiAs } from "./api.ts";
import { audit, clean, signInContext, useBrowser, VIEWPORTS, type Watched, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();

async function asUser<T>(user: TestUser, fn: (w: Watched) => Promise<T>): Promise<T> {
  const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
  // A step that cannot happen fails within the test's time, naming the step.
  w.page.setDefaultTimeout(15_000);
  try {
    await signInContext(w, base, user.username, user.password);
    return await fn(w);
  } finally {
    await w.context.close();
  }
}

const accountId = async (user: TestUser) => String((await apiAs(user, "GET", "/v1/account")).json?.id);
const REQUEST_ID = /Request id: [0-9a-f-]{36}/;

describe("the admin pages", () => {
  let admin: TestUser;
  let plain: TestUser;
  beforeAll(async () => {
    [admin, plain] = await Promise.all([signedInUser(), signedInUser()]);
    await makeAdmin(admin.username);
  });

  it("a plain user has no admin link, and /admin says it is not allowed without fetching the admin pages", async () => {
    await asUser(plain, async (w) => {
      const adminCode: string[] = [];
      w.page.on("request", (request) => {
        if (/\/assets\/admin-[^/]*\.js$/.test(request.url())) adminCode.push(request.url());
      });
      await w.page.goto(`${base}/dashboard`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Dashboard");
      expect(await w.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).count()).toBe(0);
      await w.page.goto(`${base}/admin`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("not-allowed").textContent()).toContain("Only administrators may open these pages");
      expect(await w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Administration");
      expect(adminCode).toEqual([]);
      expect(await audit(w, "admin-refused-plain-desktop")).toEqual(clean);
    });
    // The API refuses it too, whatever the website shows.
    expect((await apiAs(plain, "GET", "/v1/admin/privacy-requests")).status).toBe(403);
  });

  it("an admin reaches the queue from the nav: overdue first with due dates and states; moves a request on, rejects one with a reason, and sees a refusal's detail", async () => {
    const later = await apiAs(plain, "POST", "/v1/privacy/requests", { kind: "correction", message: "My name is spelled wrong." });
    const late = await apiAs(plain, "POST", "/v1/privacy/requests", { kind: "access" });
    expect([later.status, late.status]).toEqual([201, 201]);
    const [laterId, lateId] = [String(later.json?.id), String(late.json?.id)];
    if (!/^[A-Za-z0-9_-]+$/.test(lateId)) throw new Error("unexpected request id");
    // Made 31 days ago: its answer is a day late.
    await d1(`UPDATE privacy_requests SET due_at = ${Date.now() - 86_400_000} WHERE id = '${lateId}'`);

    await asUser(admin, async (w) => {
      await w.page.goto(`${base}/dashboard`, { waitUntil: "networkidle" });
      await w.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
      await w.page.waitForURL(`${base}/admin`);
      await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Privacy requests");
      const cards = w.page.getByTestId("queued-request");
      await expect.poll(() => cards.count()).toBeGreaterThanOrEqual(2);
      const texts = await cards.allTextContents();
      const [lateAt, laterAt] = [texts.findIndex((t) => t.includes(lateId)), texts.findIndex((t) => t.includes(laterId))];
      expect(lateAt).toBeGreaterThanOrEqual(0);
      expect(laterAt).toBeGreaterThan(lateAt);
      expect(texts[0]).toContain("overdue");
      expect(texts[laterAt]).not.toContain("overdue");
      expect(texts[laterAt]).toContain(`due ${new Date(String(later.json?.dueAt)).toLocaleDateString("en-US")}`);
      expect(texts[laterAt]).toContain("Stateopen");
      expect(texts[laterAt]).toContain("My name is spelled wrong.");
      expect(await audit(w, "admin-queue-desktop")).toEqual(clean);

      const laterCard = cards.filter({ hasText: laterId });
      await laterCard.getByRole("button", { name: "Mark in progress" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toBe(`Request ${laterId} is now in progress; the user was emailed.`);
      await expect.poll(() => laterCard.textContent()).toContain("Statein progress");
      expect((await apiAs(plain, "GET", `/v1/privacy/requests/${laterId}`)).json?.state).toBe("in_progress");

      const lateCard = cards.filter({ hasText: lateId });
      await lateCard.getByLabel("Why it is rejected (the user is told)").fill("We hold nothing more than the export gives you.");
      await lateCard.getByRole("button", { name: "Reject" }).click();
      await expect.poll(() => cards.filter({ hasText: lateId }).count()).toBe(0);
      expect((await apiAs(plain, "GET", `/v1/privacy/requests/${lateId}`)).json).toMatchObject({ state: "rejected", reason: "We hold nothing more than the export gives you." });

      // Another admin completed it meanwhile: this page's click is refused with the problem's detail.
      expect((await apiAs(admin, "PATCH", `/v1/admin/privacy-requests/${laterId}`, { state: "completed" })).status).toBe(200);
      await laterCard.getByRole("button", { name: "Mark completed" }).click();
      const alert = laterCard.getByRole("alert");
      await expect.poll(() => alert.textContent()).toContain("The request is already completed.");
      expect(await alert.textContent()).toMatch(REQUEST_ID);
    });
  });

  it("an admin grants and revokes a plan, sees an unknown account's problem, and deletes a minor's account", async () => {
    const [plainId, minor] = await Promise.all([accountId(plain), signedInUser()]);
    const minorId = await accountId(minor);
    await asUser(admin, async (w) => {
      await w.page.goto(`${base}/admin/accounts`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Plans and minors");
      await w.page.getByLabel("Account id", { exact: true }).fill(plainId);
      await w.page.getByRole("button", { name: "Open the account" }).click();
      await expect.poll(() => w.page.getByTestId("plan-grant").textContent()).toContain("no plan granted");

      await w.page.getByLabel("Plan", { exact: true }).selectOption("cpu-small");
      await w.page.getByRole("button", { name: "Save the grant" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toBe("Granted plan cpu-small.");
      await expect.poll(() => w.page.getByTestId("plan-grant").textContent()).toContain("plan cpu-small granted");
      expect(await w.page.getByLabel("Plan", { exact: true }).inputValue()).toBe("cpu-small");
      expect((await apiAs(plain, "GET", "/v1/account")).json?.planId).toBe("cpu-small");

      await w.page.getByLabel("Plan", { exact: true }).selectOption({ label: "No plan (revoke the grant)" });
      await w.page.getByRole("button", { name: "Save the grant" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toBe("The grant is revoked.");
      expect((await apiAs(plain, "GET", "/v1/account")).json?.planId).toBeNull();
      expect(await audit(w, "admin-accounts-granted-desktop")).toEqual(clean);

      await w.page.getByLabel("Account id", { exact: true }).fill("no-such-account");
      await w.page.getByRole("button", { name: "Open the account" }).click();
      await expect.poll(() => w.page.getByRole("alert").textContent()).toMatch(REQUEST_ID);

      await w.page.getByLabel("Account id", { exact: true }).fill(minorId);
      await w.page.getByRole("button", { name: "Open the account" }).click();
      const remove = w.page.getByRole("button", { name: "Delete the account as a minor's" });
      await w.page.getByLabel("Why the account appears to belong to a minor").fill("Told support they are 15.");
      expect(await remove.isDisabled()).toBe(true);
      await w.page.getByLabel(/Type the account id/).fill(minorId);
      await remove.click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toContain(`Account ${minorId} is deleted.`);
    });
    const login = await fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: minor.username, password: minor.password }) });
    expect(login.status).toBe(401);
  });

  it("an admin publishes a policy version: listed newest first and in force; the same version again is refused", async () => {
    const current = String(((await (await fetch(`${base}/v1/policy`)).json()) as { version: string }).version);
    const next = new Date(Math.max(Date.parse(`${current}T00:00:00Z`) + 86_400_000, Date.now())).toISOString().slice(0, 10);
    await asUser(admin, async (w) => {
      await w.page.goto(`${base}/admin/policy`, { waitUntil: "networkidle" });
      const rows = w.page.getByTestId("policy-versions").locator("tbody tr");
      await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(1);
      expect(await rows.first().locator("td").first().textContent()).toBe(current);
      // The form starts from the text in force.
      expect(await w.page.getByLabel("The full text").inputValue()).toMatch(/^Privacy Policy/);

      const publish = async () => {
        await w.page.getByLabel(/^Version/).fill(next);
        await w.page.getByLabel(/^What changed/).fill("Clearer wording of section 8.");
        await w.page.getByLabel("The full text").fill(`Privacy Policy\n\nLast updated: ${next}\n\nThe same promises, said more plainly.`);
        await w.page.getByRole("button", { name: "Publish" }).click();
      };
      await publish();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toBe(`Version ${next} is published.`);
      await expect.poll(() => rows.first().locator("td").first().textContent()).toBe(next);
      expect(await rows.first().textContent()).toContain("Clearer wording of section 8.");
      expect(((await (await fetch(`${base}/v1/policy`)).json()) as { version: string }).version).toBe(next);

      await publish();
      const alert = w.page.getByRole("alert");
      await expect.poll(() => alert.textContent()).toContain(`Version ${next} is already published.`);
      expect(await alert.textContent()).toMatch(REQUEST_ID);
    });
  });

  it("an admin sees every figure of the statistics and the database's daily measurement; a bad range shows the problem", async () => {
    const user = await entitledUser();
    const sessionId = await runningSession(user);
    expect((await apiAs(user, "POST", `/v1/sessions/${sessionId}/disconnect`)).status).toBeLessThan(300);
    // Four more users' sessions, copied in SQL: a day of fewer than five users (STATS_MIN_USERS)
    // is suppressed, and four more containers would only slow the test down.
    const others = await Promise.all([signUp(), signUp()]);
    const names = [admin, plain, ...others].map((u) => `'${u.username}'`).join(", ");
    if (!/^[A-Za-z0-9_-]+$/.test(sessionId) || !/^[a-z0-9', ]+$/.test(names)) throw new Error("unexpected id");
    await d1(
      `INSERT INTO sessions (id, user_id, workspace_id, host_id, plan_id, state, created_at, started_at, ended_at, duration_ms, gpu_type, gpu_count, gpu_ids, cpus, memory_mb, pids_limit, ports)
       SELECT 'copy-' || u.id, u.id, s.workspace_id, s.host_id, s.plan_id, 'ended', s.created_at, s.started_at, s.ended_at, s.duration_ms, s.gpu_type, s.gpu_count, s.gpu_ids, s.cpus, s.memory_mb, s.pids_limit, s.ports
       FROM sessions s, users u WHERE s.id = '${sessionId}' AND u.username IN (${names})`,
    );
    await cronTick(CRON.daily);

    const today = new Date().toISOString().slice(0, 10);
    const from = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    const stats = (await apiAs(admin, "GET", `/v1/admin/stats?period=day&from=${from}&to=${today}`)).json as {
      minUsers: number;
      buckets: { start: string; suppressed: boolean; sessions?: number; gpuHours?: number | null; utilization?: Record<string, number> | null; planMix?: { planId: string; sessions?: number }[] }[];
      database: { day: string; percent: number; sizeBytes: number; tables: { table: string; rows: number }[] }[];
    };
    const bucket = stats.buckets.find((b) => b.start === today);
    expect(bucket?.suppressed).toBe(false);
    expect(bucket?.sessions).toBeGreaterThanOrEqual(5);
    const measured = stats.database.find((d) => d.day === today);
    expect(measured?.tables.length).toBeGreaterThan(0);

    await asUser(admin, async (w) => {
      await w.page.goto(`${base}/admin/stats`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Statistics");
      await expect.poll(() => w.page.getByTestId("stats-range").textContent()).toBe(`PerdayFrom${from}To${today}Smallest group shown${stats.minUsers} distinct users: a bucket or plan of fewer is suppressed`);
      const row = w.page.getByTestId("stats-buckets").locator("tbody tr", { hasText: today });
      const cells = await row.locator("td").allTextContents();
      const cpuSmall = bucket?.planMix?.find((p) => p.planId === "cpu-small");
      const shown = (n: number | null | undefined) => (n === null || n === undefined ? "suppressed" : n.toLocaleString("en-US"));
      const bins = ["0-25", "25-50", "50-75", "75-100"].map((bin) => shown(bucket?.utilization === null ? null : bucket?.utilization?.[bin]));
      expect(cells).toEqual([today, shown(bucket?.sessions), shown(bucket?.gpuHours), ...bins, expect.stringContaining(`cpu-small: ${cpuSmall?.sessions}`)]);

      const day = w.page.getByTestId("stats-database").locator("tbody tr", { hasText: today });
      expect(await day.textContent()).toContain(`${measured?.sizeBytes.toLocaleString("en-US")} bytes`);
      expect(await day.textContent()).toContain(`${measured?.percent}%`);
      await day.getByText(`${measured?.tables.length} tables`).click();
      const [largest] = measured!.tables;
      expect(await day.locator("li").first().textContent()).toBe(`${largest!.table}: ${largest!.rows.toLocaleString("en-US")}`);
      expect(await audit(w, "admin-stats-figures-desktop")).toEqual(clean);

      await w.page.getByLabel("Per", { exact: true }).selectOption("week");
      await w.page.getByRole("button", { name: "Show" }).click();
      const alert = w.page.getByRole("alert");
      await expect.poll(() => alert.textContent()).toMatch(/A week (starts on a Monday|ends on a Sunday)/);
      expect(await alert.textContent()).toMatch(REQUEST_ID);
    });
  });
});
