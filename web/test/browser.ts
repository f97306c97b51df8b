/**
 * Chromium for the website's tests, and the audit every page must pass: nothing from another
 * origin, no cookies, only the storage keys the cookie policy names, no CSP violation, no console
 * error, and no serious or critical axe-core finding.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { LOCAL_KEYS } from "../src/storage.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Screenshots of each page at each width, kept as test artifacts (git-ignored). */
export const SCREENSHOTS = join(new URL("../../", import.meta.url).pathname, "test-artifacts", "web");

export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/** One Chromium for a test file: launched before its tests, closed after them; `browser()` gives it. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error("Chromium is not running: useBrowser() must be called at a test file's top level");
    return browser;
  };
}

export interface Watched {
  page: Page;
  context: BrowserContext;
  /** Requests to any origin but ours. */
  foreign: string[];
  consoleErrors: string[];
  cspViolations: string[];
}

/** A fresh context and page whose requests, console and CSP reports are recorded. */
export async function watchedPage(browser: Browser, base: string, viewport: { width: number; height: number }): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const origin = new URL(base).origin;
  const watched: Watched = { page, context, foreign: [], consoleErrors: [], cspViolations: [] };
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.protocol !== "data:" && url.origin !== origin) watched.foreign.push(request.url());
  });
  page.on("console", (message) => {
    // An API answer of 4xx is an answer the page shows (a problem, "no workspace yet"); Chromium
    // still reports it as a failed resource. Anything else in red is a defect.
    const apiAnswer = /^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text()) && new URL(message.location().url, origin).pathname.startsWith("/v1/");
    if (message.type() === "error" && !apiAnswer) watched.consoleErrors.push(message.text());
    if (/Content Security Policy/i.test(message.text())) watched.cspViolations.push(message.text());
  });
  page.on("pageerror", (error) => watched.consoleErrors.push(error.message));
  await page.exposeFunction("__reportCsp", (text: string) => watched.cspViolations.push(text));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as unknown as { __reportCsp(text: string): void }).__reportCsp(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return watched;
}

export interface Audit {
  foreign: string[];
  cookies: string[];
  unknownLocalKeys: string[];
  sessionKeys: string[];
  consoleErrors: string[];
  cspViolations: string[];
  axe: string[];
}

/** What a page holds and did, after it loaded; every list must be empty (sessionKeys outside checkout). */
export async function audit(watched: Watched, screenshot: string): Promise<Audit> {
  const { page, context } = watched;
  const allowedLocal = new Set<string>(Object.values(LOCAL_KEYS).map((k) => k.key));
  const storage = await page.evaluate(() => ({ local: Object.keys(localStorage), session: Object.keys(sessionStorage) }));
  const axe = await new AxeBuilder({ page }).analyze();
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}.png`), fullPage: true });
  return {
    foreign: watched.foreign,
    cookies: (await context.cookies()).map((c) => c.name),
    unknownLocalKeys: storage.local.filter((k) => !allowedLocal.has(k)),
    sessionKeys: storage.session,
    consoleErrors: watched.consoleErrors,
    cspViolations: watched.cspViolations,
    axe: axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.help} (${v.nodes.length})`),
  };
}

export const clean: Audit = { foreign: [], cookies: [], unknownLocalKeys: [], sessionKeys: [], consoleErrors: [], cspViolations: [], axe: [] };

/**
 * Signs `watched`'s context in as `login` without the sign-in page (the page has its own test):
 * a fresh sign-in from the API, its tokens put where the website keeps them before any page runs.
 */
export async function signInContext(watched: Watched, base: string, login: string, password: string): Promise<void> {
  const res = await fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login, password }) });
  if (res.status !== 200) throw new Error(`sign-in for the audit failed: ${res.status} ${await res.text()}`);
  const tokens = (await res.json()) as { accessToken: string; refreshToken: string };
  const entries = [
    [LOCAL_KEYS.accessToken.key, tokens.accessToken],
    [LOCAL_KEYS.refreshToken.key, tokens.refreshToken],
    [LOCAL_KEYS.username.key, login],
  ];
  // Only where nothing is held yet: a page that refreshed its tokens keeps the new ones on reload.
  await watched.context.addInitScript((held: string[][]) => {
    for (const [key, value] of held) if (key && value && localStorage.getItem(key) === null) localStorage.setItem(key, value);
  }, entries);
}
