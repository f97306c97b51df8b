/**
 * The signed-in pages besides the dashboard, in Chromium against the real Worker and provisioner:
 * usage (table, chart, CSV, the monthly limit and its action), plans and billing (checkout against
 * the local fake Stripe, the return from it), the account (corrections need the password, a new
 * password ends the other sign-ins, deletion), and privacy (the policy at /privacy, the export,
 * requests, the aggregate-statistics objection). Each page passes the audit at both widths.
 */
import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { entitledUser, ozekai, signedInUser, type TestUser, verifyEmail } from "../../cli/test/harness.ts";
import { LOCAL_KEYS, SESSION_KEYS } from "../src/storage.ts";
import { apiAs } from "./api.ts";
import { audit, clean, useBrowser, VIEWPORTS, type Watched, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();

/** A sign-in of its own for the browser (the CLI's stays the CLI's), put where the website keeps it. */
async function signInBrowser(w: Watched, user: TestUser) {
  const res = await fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: user.username, password: user.password }) });
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as { accessToken: string; refreshToken: string };
  await w.page.goto(`${base}/cookies`, { waitUntil: "networkidle" });
  const entries: [string, string][] = [
    [LOCAL_KEYS.accessToken.key, tokens.accessToken],
    [LOCAL_KEYS.refreshToken.key, tokens.refreshToken],
    [LOCAL_KEYS.username.key, user.username],
  ];
  await w.page.evaluate((pairs) => {
    for (const [key, value] of pairs) localStorage.setItem(key, value);
  }, entries);
}

async function withPage<T>(viewport: { width: number; height: number }, fn: (w: Watched) => Promise<T>): Promise<T> {
  const w = await watchedPage(browser(), base, viewport);
  // A step that cannot happen fails within the test's time, naming the step.
  w.page.setDefaultTimeout(15_000);
  try {
    return await fn(w);
  } finally {
    await w.context.close();
  }
}

const SIGNED_IN_PAGES = [
  { path: "/usage", heading: "Usage" },
  { path: "/billing", heading: "Plans and billing" },
  { path: "/account", heading: "Account" },
  { path: "/privacy", heading: "Privacy" },
];

describe("the signed-in pages, at desktop and phone widths", () => {
  for (const { path, heading } of SIGNED_IN_PAGES) {
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      it(`${path} signed in (${width}): loads, names itself, and passes the audit`, async () => {
        const user = await signedInUser();
        await withPage(viewport, async (w) => {
          await signInBrowser(w, user);
          await w.page.goto(`${base}${path}`, { waitUntil: "networkidle" });
          await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe(heading);
          await expect.poll(() => w.page.getByRole("status").filter({ hasText: "Loading…" }).count()).toBe(0);
          expect(await audit(w, `${path.slice(1)}-signed-in-${width}`)).toEqual(clean);
        });
      });
    }
  }

  it("signed out, /usage, /billing and /account send the user to sign in; /privacy shows the policy", async () => {
    await withPage(VIEWPORTS.desktop, async (w) => {
      for (const path of ["/usage", "/billing", "/account"]) {
        await w.page.goto(`${base}${path}`);
        await w.page.waitForURL(`${base}/login`);
      }
      await w.page.goto(`${base}/privacy`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("policy-version").textContent()).toMatch(/^Version \d{4}-\d{2}-\d{2}, published /);
      expect(await w.page.locator("pre.policy").textContent()).toMatch(/^Privacy Policy/);
      expect(await w.page.getByRole("button", { name: "Download my data" }).count()).toBe(0);
    });
  });
});

describe("usage", () => {
  it("lists this month's session with its cost, charts it, downloads it as CSV, and sets the limit and its action", async () => {
    const user = await entitledUser();
    const started = await apiAs(user, "POST", "/v1/sessions", {});
    expect(started.status).toBe(201);
    expect((await apiAs(user, "POST", `/v1/sessions/${started.json?.id}/disconnect`)).status).toBeLessThan(300);
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      await w.page.goto(`${base}/usage`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("usage-table").locator("tbody tr").count()).toBe(1);
      expect(await w.page.getByTestId("month-usage").textContent()).toContain("no limit set");
      await expect.poll(() => w.page.locator(".chart canvas").count()).toBeGreaterThan(0);

      const download = w.page.waitForEvent("download");
      await w.page.getByRole("button", { name: "Download CSV" }).click();
      const csv = readFileSync((await (await download).path())!, "utf8").trim().split("\n");
      expect(csv[0]).toBe("id,planId,gpuType,gpuCount,state,startedAt,endedAt,seconds,gpuSeconds,costCents,avgGpuUtilizationPercent,maxGpuUtilizationPercent,maxGpuMemoryUsedMb");
      expect(csv).toHaveLength(2);
      expect(csv[1]).toMatch(new RegExp(`^${started.json?.id},cpu-small,,0,`));

      await w.page.getByLabel("Monthly limit in hours").fill("5");
      await w.page.getByLabel(/Disconnect the session/).check();
      await w.page.getByRole("button", { name: "Save the limit" }).click();
      await expect.poll(() => w.page.getByTestId("month-usage").textContent()).toContain("of your 5-hour limit (at the limit: sessions are disconnected)");
      expect((await apiAs(user, "GET", "/v1/account")).json).toMatchObject({ usageLimitHours: 5, usageLimitAction: "disconnect" });

      await w.page.getByLabel("Monthly limit in hours").fill("");
      await w.page.getByLabel("Email me only").check();
      await w.page.getByRole("button", { name: "Save the limit" }).click();
      await expect.poll(() => w.page.getByTestId("month-usage").textContent()).toContain("no limit set");
      expect((await apiAs(user, "GET", "/v1/account")).json).toMatchObject({ usageLimitHours: null, usageLimitAction: "notify" });
      expect(w.consoleErrors).toEqual([]);
    });
  });
});

describe("plans and billing", () => {
  it("subscribing goes to Stripe's Checkout with the pending plan in sessionStorage; coming back clears it", async () => {
    const user = await signedInUser();
    await verifyEmail(user.username);
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      // Stripe's page is not reachable here: the navigation to it is answered locally.
      await w.context.route("https://checkout.stripe.test/**", (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<title>Stripe Checkout</title>" }));
      await w.page.goto(`${base}/billing`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("billing-standing").textContent()).toBe("No subscription: choose a plan below.");
      await w.page.getByRole("button", { name: "Subscribe to CPU small" }).click();
      await w.page.waitForURL(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_/);

      await w.page.goto(`${base}/cookies`);
      expect(await w.page.evaluate((key) => sessionStorage.getItem(key), SESSION_KEYS.checkout.key)).toBe("cpu-small");
      await w.page.goto(`${base}/billing?checkout=success`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toContain("Payment received for plan cpu-small");
      expect(new URL(w.page.url()).search).toBe("");
      await w.page.goto(`${base}/billing?checkout=canceled`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toBe("Checkout was canceled: nothing was charged.");
      expect(await w.page.evaluate(() => Object.keys(sessionStorage))).toEqual([]);
    });
  });
});

describe("the account", () => {
  it("a correction needs the current password; a new email waits for its confirmation", async () => {
    const user = await signedInUser();
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      await w.page.goto(`${base}/account`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("account-username").textContent()).toBe(user.username);
      const id = crypto.randomUUID().slice(0, 8);
      await w.page.getByLabel("Email address").fill(`u-${id}@example.com`);
      await w.page.locator("#currentPasswordCorrect").fill("not the password at all");
      await w.page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => w.page.getByRole("alert").textContent()).toMatch(/password/i);
      expect((await apiAs(user, "GET", "/v1/account")).json?.pendingEmail).toBeNull();

      await w.page.locator("#currentPasswordCorrect").fill(user.password);
      await w.page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toContain(`Confirm u-${id}@example.com`);
      expect((await apiAs(user, "GET", "/v1/account")).json?.pendingEmail).toBe(`u-${id}@example.com`);
    });
  });

  it("a new password keeps this browser signed in and ends the CLI's sign-in", async () => {
    const user = await signedInUser();
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      await w.page.goto(`${base}/account`, { waitUntil: "networkidle" });
      const password = `${user.password} renewed`;
      await w.page.locator("#currentPassword").fill(user.password);
      await w.page.getByLabel("New password").fill(password);
      await w.page.getByRole("button", { name: "Change password" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toContain("Password changed");
      expect((await ozekai(["whoami"], { configDir: user.configDir })).code).toBe(3);
      await w.page.goto(`${base}/account`, { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByTestId("account-username").textContent()).toBe(user.username);
    });
  });

  it("deleting needs the password and the username typed; then the browser holds nothing and the sign-in is gone", async () => {
    const user = await signedInUser();
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      await w.page.goto(`${base}/account`, { waitUntil: "networkidle" });
      const button = w.page.getByRole("button", { name: "Delete my account" });
      await w.page.getByLabel("Password", { exact: true }).fill(user.password);
      expect(await button.isDisabled()).toBe(true);
      await w.page.getByLabel(/Type your username/).fill(user.username);
      await button.click();
      await w.page.waitForURL(`${base}/?deleted=1`);
      expect(await w.page.evaluate(() => Object.keys(localStorage))).toEqual([]);
      const login = await fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: user.username, password: user.password }) });
      expect(login.status).toBe(401);
    });
  });
});

describe("privacy", () => {
  it("downloads the export, sends a request that is listed with its due date, and objects to aggregate statistics", async () => {
    const user = await signedInUser();
    await withPage(VIEWPORTS.desktop, async (w) => {
      await signInBrowser(w, user);
      await w.page.goto(`${base}/privacy`, { waitUntil: "networkidle" });

      const download = w.page.waitForEvent("download");
      await w.page.getByRole("button", { name: "Download my data" }).click();
      const exported = JSON.parse(readFileSync((await (await download).path())!, "utf8")) as { tables: { users: { username: string }[] } };
      expect(exported.tables.users.map((u) => u.username)).toEqual([user.username]);

      await w.page.getByLabel("What you ask for").selectOption("correction");
      await w.page.getByLabel("In your words (optional)").fill("My name is spelled wrong.");
      await w.page.getByRole("button", { name: "Send the request" }).click();
      const row = w.page.getByTestId("privacy-requests").locator("tbody tr");
      await expect.poll(() => row.count()).toBe(1);
      const due = new Date(Date.now() + 30 * 86_400_000).toLocaleDateString("en-US");
      expect(await row.first().textContent()).toContain("correction");
      expect(await row.first().textContent()).toContain(due);

      await expect.poll(() => w.page.getByTestId("aggregate-state").textContent()).toBe("Included.");
      await w.page.getByRole("button", { name: "Leave my usage out" }).click();
      await expect.poll(() => w.page.getByTestId("aggregate-state").textContent()).toMatch(/^Left out since /);
      expect((await apiAs(user, "GET", "/v1/account")).json?.privacy).toMatchObject({ aggregateAnalysisObjectedAt: expect.any(String) });
    });
  });
});
