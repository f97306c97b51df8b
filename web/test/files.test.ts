/**
 * The files page's uploads, in Chromium against the real Worker and the real provisioner on
 * Docker: several files by the picker and by a drop, each verified against the host's SHA-256;
 * an upload cut off at its second request resumes from the size the workspace reports (never from
 * zero) and the file downloaded afterwards is the one chosen; a checksum mismatch fails the file and
 * removes the workspace's copy; a cancelled upload leaves nothing behind, and a second upload to
 * the same path is refused while one runs. The page passes the audit.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Request, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { entitledUser, type TestUser } from "../../cli/test/harness.ts";
import { audit, clean, signInContext, useBrowser, VIEWPORTS, type Watched, watchedPage } from "./browser.ts";

const base = inject("apiUrl");
const browser = useBrowser();

/** web/src/files/transfer.ts's CHUNK_BYTES: a file over it goes in more than one request. */
const CHUNK = 64 * 2 ** 20;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fileUrl = (path: string) => `/v1/workspace/files/${path.split("/").map(encodeURIComponent).join("/")}`;

let user: TestUser;
let token: string;
let sessionId: string | undefined;
let work: string;

const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { Authorization: `Bearer ${token}`, ...init.headers } });

/** The workspace's copy as the API reports it: size and the host's SHA-256; undefined when there is none. */
async function stored(path: string) {
  const response = await api(fileUrl(path), { method: "HEAD", headers: { "Want-Repr-Digest": "sha-256" } });
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return { size: Number(response.headers.get("Content-Length")), sha256: response.headers.get("Ozekai-Sha256") };
}

beforeAll(async () => {
  user = await entitledUser();
  const login = await fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login: user.username, password: user.password }) });
  token = ((await login.json()) as { accessToken: string }).accessToken;
  // The first connect makes the workspace; files then need it hot, not the session.
  let session = (await (await api("/v1/sessions", { method: "POST" })).json()) as { id: string; state: string };
  for (let i = 0; session.state === "starting" && i < 120; i++) {
    await sleep(500);
    session = (await (await api(`/v1/sessions/${session.id}`)).json()) as { id: string; state: string };
  }
  expect(session.state).toBe("running");
  sessionId = session.id;
  work = mkdtempSync(join(tmpdir(), "ozekai-web-files-"));
}, 180_000);

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (!sessionId) return;
  await api(`/v1/sessions/${sessionId}/disconnect`, { method: "POST" });
  await api("/v1/workspace", { method: "DELETE" });
}, 120_000);

async function filesPage(): Promise<Watched> {
  const w = await watchedPage(browser(), base, VIEWPORTS.desktop);
  await signInContext(w, base, user.username, user.password);
  await w.page.goto(`${base}/files`, { waitUntil: "networkidle" });
  await w.page.getByRole("heading", { name: "Files" }).waitFor();
  return w;
}

/** The upload row of `name` and the state it shows. */
const row = (w: Watched, name: string) => w.page.getByRole("list", { name: "Uploads" }).getByRole("listitem").filter({ has: w.page.getByText(name, { exact: true }) });
const stateOf = (w: Watched, name: string) => row(w, name).getAttribute("data-state");

/** Requests for one workspace file, in the order the page sent them: method and query. */
function fileRequests(w: Watched, path: string): string[] {
  const seen: string[] = [];
  const wanted = `${base}${fileUrl(path)}`;
  w.page.on("request", (request: Request) => {
    const url = new URL(request.url());
    if (`${url.origin}${url.pathname}` === wanted) seen.push(`${request.method()} ${url.search}`.trim());
  });
  return seen;
}

describe("uploads on the files page", () => {
  it("uploads several files by the picker and by a drop, each verified against the host's SHA-256, and lists them", { timeout: 180_000 }, async () => {
    const w = await filesPage();
    try {
      const picked = [
        { name: "one.bin", buffer: randomBytes(300_000) },
        { name: "two words.txt", buffer: Buffer.from("hello from the picker\n") },
        { name: "empty", buffer: Buffer.alloc(0) },
      ];
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles(picked.map((f) => ({ ...f, mimeType: "application/octet-stream" })));
      for (const f of picked) await expect.poll(() => stateOf(w, f.name), { timeout: 60_000 }).toBe("verified");
      expect(await w.page.getByText("3 of 3 verified, 100 %").count()).toBe(1);

      // A drop as the browser delivers one: a DataTransfer holding files, dropped on the zone.
      const dropped = await w.page.evaluate(() => {
        const make = (name: string, length: number, seed: number) => new File([Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 255)], name);
        const files = [make("dropped-a.bin", 150_000, 7), make("dropped-b.bin", 5, 11)];
        const data = new DataTransfer();
        for (const file of files) data.items.add(file);
        const zone = document.querySelector("fieldset.dropzone");
        if (!zone) throw new Error("no drop zone");
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
        return files.map((f) => ({ name: f.name, length: f.size }));
      });
      const droppedBytes = [Uint8Array.from({ length: 150_000 }, (_, i) => (i * 31 + 7) & 255), Uint8Array.from({ length: 5 }, (_, i) => (i * 31 + 11) & 255)];
      expect(dropped.map((d) => d.name)).toEqual(["dropped-a.bin", "dropped-b.bin"]);
      for (const d of dropped) await expect.poll(() => stateOf(w, d.name), { timeout: 60_000 }).toBe("verified");

      // Listed, and the workspace holds exactly the bytes chosen.
      for (const [name, bytes] of [...picked.map((f) => [f.name, f.buffer] as const), ...dropped.map((d, i) => [d.name, droppedBytes[i] as Uint8Array] as const)]) {
        await w.page.getByRole("button", { name: `Download ${name}` }).waitFor();
        expect(await stored(name)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      }
      expect(await w.page.getByText("(upload not finished)").count()).toBe(0);
      expect(await audit(w, "files-uploads-desktop")).toEqual(clean);
    } finally {
      await w.context.close();
    }
  });

  it("resumes an upload cut off at its second request from the size the workspace holds, and the file is the one chosen", { timeout: 240_000 }, async () => {
    const w = await filesPage();
    try {
      const name = "big.bin";
      const bytes = randomBytes(CHUNK + 300_000);
      const local = join(work, name);
      writeFileSync(local, bytes);
      const sent = fileRequests(w, name);
      // The second request (the append after the first 64 MiB) fails as a dropped link would.
      let cut = 0;
      await w.page.route(
        (url) => url.pathname === fileUrl(name) && url.searchParams.has("offset"),
        async (route: Route) => {
          if (route.request().method() === "PUT" && cut++ === 0) return route.abort("connectionreset");
          return route.fallback();
        },
      );
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles(local);
      await expect.poll(() => stateOf(w, name), { timeout: 180_000 }).toBe("verified");

      // Whole first chunk, the append refused by the link, the size asked, the same append again, the digest asked.
      expect(sent).toEqual(["PUT", `PUT ?offset=${CHUNK}`, "HEAD", `PUT ?offset=${CHUNK}`, "HEAD"]);
      expect(await row(w, name).textContent()).toContain(`resumed at byte ${CHUNK}`);
      expect(await stored(name)).toEqual({ size: bytes.length, sha256: sha256(bytes) });
      const downloaded = new Uint8Array(await (await api(fileUrl(name))).arrayBuffer());
      expect(downloaded.length).toBe(bytes.length);
      expect(sha256(downloaded)).toBe(sha256(bytes));
      // The one error is the cut-off request's, which Chromium reports as any failed load.
      expect(await audit(w, "files-resumed-desktop")).toEqual({ ...clean, consoleErrors: ["Failed to load resource: net::ERR_CONNECTION_RESET"] });
    } finally {
      await w.context.close();
    }
  });

  it("fails a file whose stored SHA-256 differs, with the problem shown, and removes the workspace's copy", { timeout: 120_000 }, async () => {
    const w = await filesPage();
    try {
      const name = "mismatch.bin";
      // The host's answer for the upload, altered on the way back: what a corrupted transfer looks like to the page.
      await w.page.route(
        (url) => url.pathname === fileUrl(name),
        async (route: Route) => {
          if (route.request().method() !== "PUT") return route.fallback();
          const response = await route.fetch();
          const body = (await response.json()) as { sha256: string };
          return route.fulfill({ response, json: { ...body, sha256: "0".repeat(64) } });
        },
      );
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles({ name, mimeType: "application/octet-stream", buffer: randomBytes(10_000) });
      await expect.poll(() => stateOf(w, name), { timeout: 60_000 }).toBe("failed");
      const shown = (await row(w, name).getByRole("alert").textContent()) ?? "";
      expect(shown).toContain("Checksum mismatch");
      expect(shown).toContain("0".repeat(64));
      expect(await stored(name)).toBeUndefined();
      await expect.poll(() => w.page.getByRole("button", { name: `Download ${name}` }).count()).toBe(0);
      expect(await w.page.getByRole("button", { name: `Retry upload of ${name}` }).count()).toBe(1);
    } finally {
      await w.context.close();
    }
  });

  it("cancels an upload midway and leaves no partial file", { timeout: 240_000 }, async () => {
    const w = await filesPage();
    try {
      const name = "cancelled.bin";
      const local = join(work, name);
      writeFileSync(local, randomBytes(CHUNK + 100_000));
      // The append is held until the person has pressed Cancel: the first 64 MiB are stored by then.
      let held: (() => void) | undefined;
      const pressed = new Promise<void>((resolve) => {
        held = resolve;
      });
      let reached: () => void = () => undefined;
      const appending = new Promise<void>((resolve) => {
        reached = resolve;
      });
      await w.page.route(
        (url) => url.pathname === fileUrl(name) && url.searchParams.has("offset"),
        async (route: Route) => {
          reached();
          await pressed;
          await route.abort("aborted").catch(() => undefined);
        },
      );
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles(local);
      await appending;
      expect((await stored(name))?.size).toBe(CHUNK);
      // The same file chosen again meanwhile is left out: two uploads to one path would write into each other.
      await w.page.getByLabel("Choose files, or drop them on this box").setInputFiles(local);
      await w.page.getByText(`Already uploading, so left out: ${name}.`).waitFor();
      expect(await row(w, name).count()).toBe(1);
      await w.page.getByRole("button", { name: `Cancel upload of ${name}` }).click();
      held?.();
      await expect.poll(() => stateOf(w, name), { timeout: 60_000 }).toBe("cancelled");
      expect(await stored(name)).toBeUndefined();
    } finally {
      await w.context.close();
    }
  });
});
