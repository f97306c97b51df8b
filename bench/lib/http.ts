/** JSON requests to the Worker's API. */

export interface Api {
  base: string;
  token?: string;
  /** Per request. */
  timeoutMs: number;
}

/** One JSON request (with the bearer token, if any); the answer's status, text and parsed JSON (undefined if none). */
export async function call(api: Api, method: string, path: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (api.token) headers.Authorization = `Bearer ${api.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${api.base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(api.timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

/** call(), failing unless the status is one of `statuses`. */
export async function expect(api: Api, method: string, path: string, statuses: number[], body?: unknown) {
  const reply = await call(api, method, path, body);
  if (!statuses.includes(reply.status)) throw new Error(`${method} ${path}: ${reply.status} ${reply.text.slice(0, 500)}`);
  return reply;
}
