/**
 * A session from the browser, in Chromium against the real Worker and the real provisioner on
 * Docker: an entitled user signs in, connects from the dashboard, types into the shell in the
 * terminal page and reads its output, resizes it, moves a file in and out of the workspace on the
 * files page, and disconnects; the open terminal says the session ended. Each page passes the
 * audit (no CSP violation with xterm running, no console error, axe clean) at both widths.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, inject, it } from "vitest";
import { entitledUser } from "../../cli/test/harness.ts";
import { audit, clean, useBrowser, VIEWPORTS, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();

/** What the terminal shows: xterm's DOM rows, as text. */
const screen = async (page: Page) => ((await page.locator(".xterm-rows").textContent()) ?? "").replace(/\u00a0/g, " ");
const typeLine = async (page: Page, line: string) => {
  await page.locator(".xterm").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
};
const shownSize = async (page: Page) => {
  const [, cols, rows] = /(\d+) columns × (\d+) rows/.exec((await page.getByTestId("terminal-size").textContent()) ?? "") ?? [];
  return { cols: Number(cols), rows: Number(rows) };
};

describe("a session in the browser", () => {
  it("connects from the dashboard, runs a command in the terminal, resizes it, uploads, downloads and deletes a file, and disconnects", { timeout: 240_000 }, async () => {
    const user = await entitledUser();
    const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
    try {
      await w.page.goto(`${base}/login`, { waitUntil: "networkidle" });
      await w.page.getByLabel("Username or email address").fill(user.username);
      await w.page.getByLabel("Password").fill(user.password);
      await w.page.getByRole("button", { name: "Sign in" }).click();
      await w.page.waitForURL(`${base}/dashboard`);
      await expect.poll(() => w.page.locator(".billing").textContent()).toBe("Nothing is billing now.");

      await w.page.getByRole("button", { name: "Connect", exact: true }).click();
      const ready = w.page.getByRole("link", { name: "open its terminal" });
      await ready.waitFor({ timeout: 120_000 });
      await expect.poll(() => w.page.locator(".billing").textContent()).toMatch(/^Billing now: plan cpu-small/);
      expect(await w.page.getByRole("button", { name: "Disconnect" }).isEnabled()).toBe(true);
      const terminalUrl = `${base}${await ready.getAttribute("href")}`;

      // The shell: what is typed runs, and its output shows (the shell computes 6*7; the echo of the typed line cannot contain 42).
      await ready.click();
      await w.page.waitForURL(/\/sessions\/[^/]+\/terminal$/);
      await expect.poll(() => w.page.getByTestId("terminal-status").textContent(), { timeout: 30_000 }).toBe("Connected to your session's shell.");
      const marker = crypto.randomUUID().slice(0, 8);
      await typeLine(w.page, `echo hello-$((6*7))-${marker}`);
      await expect.poll(() => screen(w.page), { timeout: 15_000 }).toContain(`hello-42-${marker}`);
      expect(await audit(w, "terminal-desktop")).toEqual(clean);

      // Resized to a phone's width: the terminal refits and the shell's terminal has the new size.
      const before = await shownSize(w.page);
      await w.page.setViewportSize(VIEWPORTS.phone);
      await expect.poll(async () => (await shownSize(w.page)).cols).toBeLessThan(before.cols);
      const after = await shownSize(w.page);
      await typeLine(w.page, "stty size");
      await expect.poll(() => screen(w.page), { timeout: 15_000 }).toContain(`${after.rows} ${after.cols}`);
      expect(await audit(w, "terminal-phone")).toEqual(clean);
      await w.page.setViewportSize(VIEWPORTS.desktop);

      // Files: a name is the user's text (markup in it stays text); the bytes come back as sent.
      await w.page.getByRole("link", { name: "Files", exact: true }).click();
      await w.page.waitForURL(`${base}/files`);
      const name = `notes <b>${marker} &amp; co.bin`;
      const bytes = randomBytes(200_000);
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles({ name, mimeType: "application/octet-stream", buffer: bytes });
      await expect.poll(() => w.page.getByRole("list", { name: "Uploads" }).getByRole("listitem").getAttribute("data-state"), { timeout: 30_000 }).toBe("verified");
      await w.page.locator("table.files").getByText(name, { exact: true }).waitFor();
      expect(await w.page.locator("table.files b").count()).toBe(0);
      expect(await audit(w, "files-desktop")).toEqual(clean);

      const downloading = w.page.waitForEvent("download", { timeout: 15_000 });
      await w.page.getByRole("button", { name: `Download ${name}` }).click();
      const download = await downloading.catch(async (error) => {
        throw new Error(`no download: ${error}; page: ${await w.page.locator("main").textContent()}; console: ${w.consoleErrors.join(" | ")}`);
      });
      expect(download.suggestedFilename()).toContain(marker);
      expect(Buffer.compare(readFileSync(await download.path()), bytes)).toBe(0);

      await w.page.getByRole("button", { name: `Delete ${name}` }).click();
      await w.page.getByRole("button", { name: `Delete ${name}` }).click();
      await expect.poll(() => w.page.getByRole("button", { name: `Download ${name}` }).count()).toBe(0);
      // What is left is what the session made itself: its SSH host key (docs/decisions/0039-ssh-into-sessions.md).
      expect(await w.page.locator("table.files tbody tr").allTextContents()).toEqual([expect.stringMatching(/^\.ozekai/)]);

      // Disconnect with the terminal open in another tab: it says the session ended.
      const terminalTab = await w.context.newPage();
      await terminalTab.goto(terminalUrl, { waitUntil: "networkidle" });
      await expect.poll(() => terminalTab.getByTestId("terminal-status").textContent(), { timeout: 30_000 }).toBe("Connected to your session's shell.");
      await w.page.goto(`${base}/dashboard`, { waitUntil: "networkidle" });
      await w.page.getByRole("button", { name: "Disconnect" }).click();
      await expect.poll(() => w.page.locator(".billing").textContent(), { timeout: 60_000 }).toBe("Nothing is billing now.");
      // The workspace keeps the host key its session made, so a first SSH connection can be checked against it.
      expect(await w.page.getByTestId("workspace-ssh-host-key").textContent()).toMatch(/^SHA256:[A-Za-z0-9+/]{43} \(ED25519\)$/);
      await expect.poll(() => terminalTab.getByTestId("terminal-status").textContent(), { timeout: 30_000 }).toMatch(/^The session has ended/);
      expect(await terminalTab.getByRole("button", { name: "Reconnect" }).count()).toBe(1);
      expect(await audit(w, "dashboard-disconnected-desktop")).toEqual(clean);
    } finally {
      await w.context.close();
    }
  });
});
