/**
 * A new user's way in, in Chromium against the real Worker: sign up on the page, open the
 * verification link from the local outbox, sign in, see the dashboard, sign out; a wrong password,
 * a reset request, and an email change undone from the link sent to the old address. Each page along the way passes the audit, and the browser holds exactly
 * what the cookie policy says, when it says.
 */
import { describe, expect, inject, it } from "vitest";
import { LOCAL_KEYS } from "../src/storage.ts";
import { audit, clean, useBrowser, VIEWPORTS, type Watched, watchedPage } from "./browser.ts";
import { linkFromEmail } from "./outbox.ts";

const base = inject("apiUrl");
const browser = useBrowser();

const newUser = () => {
  const id = crypto.randomUUID().slice(0, 8);
  return { username: `web${id}`, email: `u-${id}@example.com`, password: `quiet orchard ${id} lantern` };
};

async function signUp(w: Watched, user: ReturnType<typeof newUser>) {
  await w.page.goto(`${base}/signup`, { waitUntil: "networkidle" });
  await w.page.getByLabel("Username").fill(user.username);
  await w.page.getByLabel("Email address").fill(user.email);
  await w.page.getByLabel("Password").fill(user.password);
  await w.page.getByLabel("I am 18 or older.").check();
  await w.page.getByLabel(/I have read and accept the privacy policy \(version \d{4}-\d{2}-\d{2}\)/).check();
  await w.page.getByRole("button", { name: "Create account" }).click();
  await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Check your email");
}

async function signIn(w: Watched, login: string, password: string) {
  await w.page.goto(`${base}/login`, { waitUntil: "networkidle" });
  await w.page.getByLabel("Username or email address").fill(login);
  await w.page.getByLabel("Password").fill(password);
  await w.page.getByRole("button", { name: "Sign in" }).click();
}

const storage = (w: Watched) => w.page.evaluate(() => ({ local: Object.keys(localStorage).sort(), session: Object.keys(sessionStorage) }));

describe("sign-up, verification, sign-in and sign-out in the browser", () => {
  it("a new user signs up, verifies from the emailed link, signs in to the dashboard, and signs out", async () => {
    const user = newUser();
    const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
    try {
      const signedUpAt = Date.now() - 1000;
      await signUp(w, user);
      expect(await audit(w, "signup-done-desktop")).toEqual(clean);

      const link = await linkFromEmail(signedUpAt, "/verify-email");
      await w.page.goto(link.replace(/^https?:\/\/[^/]+/, base), { waitUntil: "networkidle" });
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("Your email address is verified.");
      // The token is gone from the address bar and the history.
      expect(await w.page.evaluate(() => location.hash)).toBe("");

      await signIn(w, user.username, user.password);
      await w.page.waitForURL(`${base}/dashboard`);
      await expect.poll(() => w.page.locator(".billing").textContent()).toBe("Nothing is billing now.");
      await expect.poll(() => w.page.getByTestId("session-state").textContent()).toBe("No session is running.");
      expect(await w.page.getByRole("button", { name: "Connect", exact: true }).isDisabled()).toBe(true);
      expect(await w.page.getByText(/You cannot start a session yet: .+/).count()).toBe(1);
      expect(await storage(w)).toEqual({ local: Object.values(LOCAL_KEYS).map((k) => k.key).sort(), session: [] });
      expect(await audit(w, "dashboard-desktop")).toEqual(clean);

      await w.page.getByRole("button", { name: `Sign out ${user.username}` }).click();
      await w.page.waitForURL(`${base}/`);
      expect(await storage(w)).toEqual({ local: [], session: [] });
      await w.page.goto(`${base}/dashboard`, { waitUntil: "networkidle" });
      await w.page.waitForURL(`${base}/login`);
    } finally {
      await w.context.close();
    }
  });

  it("a wrong password shows the problem's detail and its request id, and stores nothing", async () => {
    const user = newUser();
    const w = await watchedPage(browser(), base, VIEWPORTS.phone);
    try {
      await signUp(w, user);
      await signIn(w, user.username, `${user.password} wrong`);
      const alert = w.page.getByRole("alert");
      await expect.poll(() => alert.textContent()).toMatch(/Request id: [0-9a-f-]{36}/);
      expect(w.page.url()).toBe(`${base}/login`);
      expect(await storage(w)).toEqual({ local: [], session: [] });
      expect(await audit(w, "login-refused-phone")).toEqual(clean);
    } finally {
      await w.context.close();
    }
  });

  it("a reset request answers the same for any address, and the emailed link sets a new password", async () => {
    const user = newUser();
    const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
    try {
      await signUp(w, user);
      const ask = async (email: string) => {
        await w.page.goto(`${base}/reset-password`, { waitUntil: "networkidle" });
        await w.page.getByLabel("Your account's email address").fill(email);
        await w.page.getByRole("button", { name: "Email me a reset link" }).click();
        await expect.poll(() => w.page.getByRole("status").count()).toBe(1);
        return w.page.getByRole("status").textContent();
      };
      // No account enumeration: an address without an account reads exactly the same answer.
      const forNobody = await ask(`u-nobody-${crypto.randomUUID().slice(0, 8)}@example.com`);
      const askedAt = Date.now() - 1000;
      expect(await ask(user.email)).toBe(forNobody);
      expect(forNobody).toBeTruthy();
      const link = await linkFromEmail(askedAt, "/reset-password");
      // The link opens as a new page load, as from a mail client (not a same-page fragment change).
      await w.page.goto("about:blank");
      await w.page.goto(link.replace(/^https?:\/\/[^/]+/, base), { waitUntil: "networkidle" });
      expect(await w.page.evaluate(() => location.hash)).toBe("");
      const fresh = `${user.password} renewed`;
      await w.page.getByLabel("New password").fill(fresh);
      await w.page.getByRole("button", { name: "Set the new password" }).click();
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("Your password is changed");
      await signIn(w, user.username, fresh);
      await w.page.waitForURL(`${base}/dashboard`);
      expect(await audit(w, "reset-then-dashboard-desktop")).toEqual(clean);
    } finally {
      await w.context.close();
    }
  });

  it("the old address undoes an email change from its emailed link, with one click; the link works once", async () => {
    const user = newUser();
    const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
    const open = async (link: string) => {
      // As from a mail client: a new page load, not a fragment change on the same page.
      await w.page.goto("about:blank");
      await w.page.goto(link.replace(/^https?:\/\/[^/]+/, base), { waitUntil: "networkidle" });
    };
    try {
      const signedUpAt = Date.now() - 1000;
      await signUp(w, user);
      await open(await linkFromEmail(signedUpAt, "/verify-email"));
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("Your email address is verified.");
      await signIn(w, user.username, user.password);
      await w.page.waitForURL(`${base}/dashboard`);

      const changedTo = `u-${crypto.randomUUID().slice(0, 8)}@example.com`;
      const changedAt = Date.now() - 1000;
      await w.page.goto(`${base}/account`, { waitUntil: "networkidle" });
      await w.page.getByLabel("Email address").fill(changedTo);
      await w.page.locator("#currentPasswordCorrect").fill(user.password);
      await w.page.getByRole("button", { name: "Save" }).click();
      await expect.poll(() => w.page.getByRole("status").first().textContent()).toContain(`Confirm ${changedTo}`);
      await open(await linkFromEmail(changedAt, "/verify-email"));
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("Your email address is verified.");

      // The notice to the old address: nothing happens until the click.
      const confirmedAt = Date.now() - 1000;
      const revert = await linkFromEmail(confirmedAt, "/revert-email");
      await open(revert);
      expect(await w.page.evaluate(() => location.hash)).toBe("");
      await expect.poll(() => w.page.getByRole("heading", { level: 1 }).textContent()).toBe("Undo the email change");
      expect(await audit(w, "revert-email-confirm-desktop")).toEqual(clean);
      const login = (login: string, password: string) => fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login, password }) });
      expect((await login(changedTo, user.password)).status).toBe(200);
      const revertedAt = Date.now() - 1000;
      await w.page.getByRole("button", { name: "Undo the change" }).click();
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("The change is undone");

      // The password stopped working with the change; the reset link came to the old address.
      expect((await login(user.email, user.password)).status).toBe(401);
      await open(await linkFromEmail(revertedAt, "/reset-password"));
      const fresh = `${user.password} restored`;
      await w.page.getByLabel("New password").fill(fresh);
      await w.page.getByRole("button", { name: "Set the new password" }).click();
      await expect.poll(() => w.page.getByRole("status").textContent()).toContain("Your password is changed");
      await signIn(w, user.email, fresh);
      await w.page.waitForURL(`${base}/dashboard`);
      expect((await login(changedTo, fresh)).status).toBe(401);

      // A second use of the link is refused, with the problem's detail and request id.
      await open(revert);
      await w.page.getByRole("button", { name: "Undo the change" }).click();
      const alert = w.page.getByRole("alert");
      await expect.poll(() => alert.textContent()).toMatch(/Request id: [0-9a-f-]{36}/);
      expect(await w.page.getByRole("status").count()).toBe(0);
    } finally {
      await w.context.close();
    }
  });
});
