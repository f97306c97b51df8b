/** A session through the Worker's API: connect until its container runs, then disconnect and destroy the workspace. */
import { trackLabel } from "../lib/docker.ts";
import { type Api, expect } from "../lib/http.ts";
import { sleep } from "../lib/time.ts";
import { CONNECT_POLL_MS } from "./settings.ts";
export interface SessionView {
  id: string;
  state: string;
  workspaceId: string;
}

/** POST /v1/sessions, then (on 202) GET /v1/sessions/{id} until the container runs; wall ms. */
export async function apiConnect(api: Api): Promise<{ ms: number; session: SessionView }> {
  const started = performance.now();
  const reply = await expect(api, "POST", "/v1/sessions", [200, 201, 202]);
  let session = reply.json as SessionView;
  // Transfer helpers are labelled with the workspace only.
  trackLabel(`ozekai.helper=${session.workspaceId}`);
  while (session.state === "starting") {
    await sleep(CONNECT_POLL_MS);
    session = (await expect(api, "GET", `/v1/sessions/${session.id}`, [200])).json as SessionView;
  }
  const ms = performance.now() - started;
  if (session.state !== "running") throw new Error(`connect ended in state ${session.state}`);
  return { ms, session };
}

export async function apiDisconnectAndDestroy(api: Api, session: SessionView) {
  const disconnect = performance.now();
  await expect(api, "POST", `/v1/sessions/${session.id}/disconnect`, [200]);
  const destroy = performance.now();
  await expect(api, "DELETE", "/v1/workspace", [200]);
  return { disconnectMs: destroy - disconnect, destroyMs: performance.now() - destroy };
}
