/** The API called as a test user, outside the browser: to set a scene up, or to check what a page did. */
import { inject } from "vitest";
import { readProfile, type TestUser } from "../../cli/test/harness.ts";

const bearer = (user: TestUser) => ({ authorization: `Bearer ${readProfile(user.configDir).accessToken}`, "content-type": "application/json" });

export async function apiAs(user: TestUser, method: string, path: string, body?: unknown) {
  const res = await fetch(`${inject("apiUrl")}${path}`, { method, headers: bearer(user), body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json().catch(() => null)) as Record<string, unknown> | null };
}
