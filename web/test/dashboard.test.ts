/**
 * The dashboard's running session, in Chromium against the real Worker: its live usage (charts of
 * GPU utilization and VRAM per GPU, CPU and memory, and a table of the latest figures) from the
 * per-minute samples, refreshed while the page is open; and the idle-disconnect warning with the
 * time the idle rule gives. The session and its samples are rows written straight to the Worker's
 * D1 (harness runningSessionRows: 2 GPUs, a host marked offline; nothing here calls a host).
 */
import { describe, expect, inject, it } from "vitest";
import { d1, readProfile, runningSessionRows, type SampleFigures, signedInUser, type TestUser, usageSampleRow } from "../../cli/test/harness.ts";
import { audit, clean, signInContext, useBrowser, VIEWPORTS, type Watched, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();
const MINUTE = 60_000;

async function dashboard(user: TestUser, fn: (w: Watched) => Promise<void>) {
  const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
  w.page.setDefaultTimeout(15_000);
  try {
    await signInContext(w, base, user.username, user.password);
    await w.page.goto(`${base}/dashboard`, { waitUntil: "networkidle" });
    await fn(w);
  } finally {
    await w.context.close();
  }
}

/** The latest-figures table's rows, each its cells' text joined by " | ". */
const latestRows = (w: Watched) =>
  w.page
    .getByTestId("latest-figures")
    .locator("tbody tr")
    .evaluateAll((rows) => rows.map((row) => [...(row as HTMLTableRowElement).cells].map((cell) => cell.textContent?.replace(/\s+/g, " ").trim()).join(" | ")));

describe("the dashboard's running session", () => {
  it("shows no samples yet, then charts of each GPU, CPU and memory with the latest figures in a table, refreshed while open; a busy session has no idle warning", { timeout: 120_000 }, async () => {
    const user = await signedInUser();
    const session = await runningSessionRows(user);
    try {
      await dashboard(user, async (w) => {
        await expect.poll(() => w.page.getByTestId("session-state").textContent()).toBe("running");
        // The rows are written straight to D1: the column's default, the image sessions ran before the catalog.
        expect(await w.page.getByTestId("session-image").textContent()).toBe("minimal");
        await w.page.getByTestId("metrics-empty").waitFor();
        expect(await w.page.locator(".chart").count()).toBe(0);

        const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
        const busy = (cpuPercent: number): SampleFigures => ({ gpus: [[70, 40000], [30, 20000]], cpuPercent, memoryMib: 2048 });
        await d1([2, 1, 0].map((m) => usageSampleRow(session, minute - m * MINUTE, busy(150))).join("; "));
        await w.page.reload({ waitUntil: "networkidle" });
        await expect.poll(() => latestRows(w)).toEqual(["GPU 0 | 70 % | 40,000 of 81,920 MiB", "GPU 1 | 30 % | 20,000 of 81,920 MiB", "CPU and memory | 150 % CPU | 2,048 MiB"]);
        // GPU utilization, VRAM, and CPU with memory: each a uPlot canvas, each described for screen readers.
        await expect.poll(() => w.page.locator(".chart canvas").count()).toBe(3);
        const labels = await w.page.locator(".chart[role=img]").evaluateAll((charts) => charts.map((c) => c.getAttribute("aria-label")));
        expect(labels.map((l) => l?.split(" in ")[0])).toEqual(["GPU utilization per GPU,", "VRAM used per GPU,", "CPU use"]);
        expect(await w.page.getByTestId("idle-warning").count()).toBe(0);
        expect(await audit(w, "dashboard-live-usage-desktop")).toEqual(clean);

        // The next minute's sample shows without a reload (the page polls while it is visible).
        await d1(usageSampleRow(session, minute + MINUTE, busy(42)));
        await expect.poll(() => latestRows(w), { timeout: 45_000 }).toContain("CPU and memory | 42 % CPU | 2,048 MiB");
      });
    } finally {
      await session.end();
    }
  });

  it("idle samples show the warning with the time the idle rule disconnects it", async () => {
    const user = await signedInUser();
    const session = await runningSessionRows(user);
    try {
      const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
      await d1([3, 2, 1, 0].map((m) => usageSampleRow(session, minute - m * MINUTE, { gpus: [[1, 300], [0, 300]], cpuPercent: 2, memoryMib: 512 })).join("; "));
      const view = (await (await fetch(`${base}/v1/sessions/${session.sessionId}`, { headers: { authorization: `Bearer ${readProfile(user.configDir).accessToken}` } })).json()) as { idleDisconnectAt: string | null };
      // wrangler.toml's IDLE_MINUTES (30) after the first idle minute.
      expect(view.idleDisconnectAt).toBe(new Date(minute - 3 * MINUTE + 30 * MINUTE).toISOString());
      await dashboard(user, async (w) => {
        const warning = w.page.getByTestId("idle-warning");
        await warning.waitFor();
        expect(await warning.locator("time").getAttribute("datetime")).toBe(view.idleDisconnectAt);
        const shown = await w.page.evaluate((iso) => new Date(iso).toLocaleTimeString(), view.idleDisconnectAt!);
        expect((await warning.textContent())?.replace(/\s+/g, " ")).toBe(`Your session is idle: it will be disconnected at ${shown} unless it is used (a busy GPU or CPU, or a shell open). Your files are kept.`);
        expect(await audit(w, "dashboard-idle-desktop")).toEqual(clean);
      });
    } finally {
      await session.end();
    }
  });
});
