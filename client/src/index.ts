/**
 * The Ozekai API client: the request and response types are generated from the Worker's own
 * OpenAPI document (schema.d.ts, `npm run client:generate`), calls go through openapi-fetch. It
 * attaches the signed-in bearer token and, when the API refuses an access token, refreshes it
 * once — under the credential store's exclusive lock, so that two processes (or tabs) sharing one
 * sign-in never both present the same single-use refresh token: the API takes a reused refresh
 * token for a stolen one and revokes the whole sign-in.
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.d.ts";

export type { components, paths };
export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

/** A sign-in's tokens as the API issued them (POST /v1/auth/login and /v1/auth/refresh). */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/**
 * Where a sign-in's tokens are kept: a 0600 file per API for the CLI (file-store.ts), and
 * localStorage for a website, whose `exclusive` can be `navigator.locks.request(name, fn)`.
 */
export interface CredentialStore {
  read(): Promise<Tokens | undefined>;
  /** Replaces the stored tokens; `undefined` forgets the sign-in. */
  write(tokens: Tokens | undefined): Promise<void>;
  /** Runs `fn` while no other user of this store (another process, another tab) runs its own. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export interface OzekaiClientOptions {
  /** The API's origin, e.g. https://api.ozekai.dev or http://localhost:8787. */
  baseUrl: string;
  /** The signed-in user's tokens; refreshed here when the access token is refused. */
  credentials?: CredentialStore;
  /** An access token used as is and never refreshed nor stored (CI); wins over `credentials`. */
  accessToken?: string;
  /**
   * Per request, milliseconds (default 30 s); null: no limit on the whole exchange (a transfer of
   * many GB), the request's own signal ends it. The request's signal is honoured either way.
   */
  timeoutMs?: number | null;
  fetch?: (request: Request) => Promise<Response>;
}

export type OzekaiApi = ReturnType<typeof createClient<paths>>;

export interface OzekaiClient {
  /** Every API route, typed from the OpenAPI document; signed in when tokens are held. */
  api: OzekaiApi;
  /** Signs in and stores the new sign-in's tokens; a refused sign-in is returned as the API's problem. */
  signIn(login: string, password: string): Promise<{ error?: Problem; response: Response }>;
  /** Ends the sign-in on the server (its tokens stop working), then forgets it here. */
  signOut(): Promise<{ error?: Problem; response: Response }>;
  /**
   * After the API refused `rejected` (a 401 `unauthorized`), for requests sent outside `api` (a
   * file's bytes, streamed by the caller: a clone of such a request would hold every byte): the
   * same one refresh under the store's lock as `api` makes. Gives the token to send again with,
   * the refresh's own refusal to show instead, or undefined (no sign-in held to refresh).
   */
  refreshAfterRejection(rejected: string): Promise<{ token: string } | { response: Response } | undefined>;
}

const isProblemCode = async (response: Response, code: string) => {
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return body.code === code;
  } catch {
    return false;
  }
};

export function createOzekaiClient(options: OzekaiClientOptions): OzekaiClient {
  const { credentials, accessToken: fixedToken } = options;
  const timeoutMs = options.timeoutMs === undefined ? 30_000 : options.timeoutMs;
  const baseFetch = options.fetch ?? ((request: Request) => fetch(request));
  const send = (request: Request, token: string | undefined) => {
    if (token !== undefined) request.headers.set("Authorization", `Bearer ${token}`);
    const signal = timeoutMs === null ? request.signal : AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
    return baseFetch(new Request(request, { signal }));
  };
  // Login and refresh never carry a token: a failed one must not start a refresh.
  const anonymous = createClient<paths>({ baseUrl: options.baseUrl, fetch: (request) => send(request, undefined) });

  /**
   * After `rejected` was refused: the token to retry with, or the response to give the caller
   * instead (the sign-in ended, or the refresh could not be made now).
   */
  async function refreshAfter(store: CredentialStore, rejected: string): Promise<{ token: string } | { response: Response } | undefined> {
    return store.exclusive(async () => {
      // Read again under the lock: another process may have refreshed while this one waited.
      const current = await store.read();
      if (!current) return undefined;
      if (current.accessToken !== rejected) return { token: current.accessToken };
      const { data, error, response } = await anonymous.POST("/v1/auth/refresh", { body: { refreshToken: current.refreshToken } });
      if (data) {
        await store.write({ accessToken: data.accessToken, refreshToken: data.refreshToken });
        return { token: data.accessToken };
      }
      // 401: the sign-in has ended (expired, revoked, password changed); anything else is
      // transient (rate limited, unavailable) and the tokens are kept for the next try.
      if (response.status === 401) await store.write(undefined);
      // The caller gets the refresh's answer (its body was read here: it is sent on as parsed).
      const headers = new Headers(response.headers);
      for (const name of ["Content-Length", "Content-Encoding"]) headers.delete(name);
      return { response: new Response(JSON.stringify(error ?? null), { status: response.status, statusText: response.statusText, headers }) };
    });
  }

  async function signedInFetch(request: Request): Promise<Response> {
    if (fixedToken !== undefined) return send(request, fixedToken);
    const tokens = await credentials?.read();
    if (!credentials || !tokens) return send(request, undefined);
    const retry = request.clone();
    const response = await send(request, tokens.accessToken);
    // An expired access token is a 401 `unauthorized` (RFC 6750 invalid_token): refresh once.
    if (response.status !== 401 || !(await isProblemCode(response, "unauthorized"))) return response;
    const next = await refreshAfter(credentials, tokens.accessToken);
    if (!next) return response;
    await response.body?.cancel();
    return "token" in next ? send(retry, next.token) : next.response;
  }

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: signedInFetch });

  return {
    api,
    async signIn(login, password) {
      const { data, error, response } = await anonymous.POST("/v1/auth/login", { body: { login, password } });
      if (data) await credentials?.write({ accessToken: data.accessToken, refreshToken: data.refreshToken });
      return { error, response };
    },
    refreshAfterRejection: (rejected) => (fixedToken === undefined && credentials ? refreshAfter(credentials, rejected) : Promise.resolve(undefined)),
    async signOut() {
      const { error, response } = await api.POST("/v1/auth/logout");
      // Forgotten here whatever the server said: a 401 means the sign-in had already ended.
      if (!error || response.status === 401) await credentials?.write(undefined);
      return { error, response };
    },
  };
}
