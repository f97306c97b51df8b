/**
 * The website served by the Worker (Workers Static Assets), in Chromium: every page at desktop
 * and phone widths passes the audit (policy §3, §4, §8: nothing from another origin, no cookies,
 * only the storage the cookie policy names; a strict CSP never violated; no console error; no
 * serious or critical accessibility finding), and the API still answers beside it.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { LOCAL_KEYS, SESSION_KEYS } from "../src/storage.ts";
import { makeAdmin, signedInUser, type TestUser } from "../../cli/test/harness.ts";
import { audit, clean, signInContext, useBrowser, VIEWPORTS, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();

const PAGES: { path: string; heading: string; signedIn?: true; admin?: true; name?: string }[] = [
  { path: "/", heading: "GPU containers with a workspace that stays" },
  { path: "/cookies", heading: "Cookie policy" },
  { path: "/signup", heading: "Create an account" },
  { path: "/login", heading: "Sign in" },
  { path: "/reset-password", heading: "Reset your password" },
  { path: "/verify-email", heading: "Verify your email address" },
  { path: "/revert-email", heading: "Undo the email change" },
  { path: "/no-such-page", heading: "Page not found" },
  // Signed in (a new account: no plan, no workspace yet); the pages with a live session are
  // audited in session.test.ts.
  { path: "/dashboard", heading: "Dashboard", signedIn: true },
  { path: "/terminal", heading: "Terminal", signedIn: true },
  { path: "/files", heading: "Files", signedIn: true },
  // Not an admin: the admin pages refuse (admin.test.ts: without fetching their code).
  { path: "/admin", heading: "Administration", signedIn: true, name: "admin-refused" },
  { path: "/admin", heading: "Privacy requests", admin: true },
  { path: "/admin/accounts", heading: "Plans and minors", admin: true },
  { path: "/admin/policy", heading: "Policy versions", admin: true },
  { path: "/admin/stats", heading: "Statistics", admin: true },
];

describe("every page, at desktop and phone widths", () => {
  let user: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    [user, admin] = await Promise.all([signedInUser(), signedInUser()]);
    await makeAdmin(admin.username);
  });
  for (const { path, heading, signedIn, admin: asAdmin, name: named } of PAGES) {
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      it(`${named ?? path} (${width}): loads, names itself, and passes the audit`, async () => {
        const watched = await watchedPage(browser(), base, viewport);
        try {
          const as = asAdmin ? admin : signedIn ? user : undefined;
          if (as) await signInContext(watched, base, as.username, as.password);
          const res = await watched.page.goto(`${base}${path}`, { waitUntil: "networkidle" });
          expect(res?.status()).toBe(200);
          await expect.poll(() => watched.page.getByRole("heading", { level: 1 }).textContent()).toBe(heading);
          await expect.poll(() => watched.page.getByRole("status").filter({ hasText: "Loading…" }).count()).toBe(0);
          expect(await watched.page.title()).toMatch(/ — Ozekai$|^Ozekai/);
          // A signed-in page stays (signed out it would have gone to the sign-in page).
          expect(new URL(watched.page.url()).pathname).toBe(path);
          const name = `${named ?? (path === "/" ? "home" : path.slice(1).replaceAll("/", "-"))}-${width}`;
          expect(await audit(watched, name)).toEqual(clean);
        } finally {
          await watched.context.close();
        }
      });
    }
  }
});

describe("how the Worker serves the website", () => {
  it("pages and their files carry the strict CSP and no cookie; the API keeps its own headers", async () => {
    const html = await fetch(`${base}/cookies`);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = html.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(html.headers.get("set-cookie")).toBeNull();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${base}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-security-policy")).toBe(csp);

    const api = await fetch(`${base}/v1/nothing-here`);
    expect(api.status).toBe(404);
    expect(api.headers.get("content-type")).toBe("application/problem+json");
    expect(api.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it("the cookie policy lists every key the website may store, from the code that stores them", async () => {
    const watched = await watchedPage(browser(), base, VIEWPORTS.desktop);
    try {
      await watched.page.goto(`${base}/cookies`, { waitUntil: "networkidle" });
      const listed = await watched.page.locator("dt code").allTextContents();
      expect(listed.sort()).toEqual([...Object.values(LOCAL_KEYS), ...Object.values(SESSION_KEYS)].map((k) => k.key).sort());
      expect(await watched.page.getByText("no cookies").count()).toBeGreaterThan(0);
    } finally {
      await watched.context.close();
    }
  });

  it("the keyboard reaches the content first: the skip link moves focus to the main region", async () => {
    const watched = await watchedPage(browser(), base, VIEWPORTS.desktop);
    try {
      await watched.page.goto(`${base}/`, { waitUntil: "networkidle" });
      await watched.page.keyboard.press("Tab");
      expect(await watched.page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
      await watched.page.keyboard.press("Enter");
      expect(await watched.page.evaluate(() => document.activeElement?.id)).toBe("main");
    } finally {
      await watched.context.close();
    }
  });
});
