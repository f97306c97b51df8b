/**
 * The website's one way to the API: the typed client (client/), signed in with the tokens kept in
 * localStorage (storage.ts). Tabs share one sign-in; a refresh runs under a Web Lock so two tabs
 * never present the same single-use refresh token (the API would revoke the sign-in).
 */
import { type CredentialStore, createOzekaiClient, type Problem, type Schemas, type Tokens } from "@ozekai/client";
import { signal } from "@preact/signals";
import { LOCAL_KEYS } from "./storage";

export type { Problem, Schemas };

const store: CredentialStore = {
  async read() {
    const accessToken = localStorage.getItem(LOCAL_KEYS.accessToken.key);
    const refreshToken = localStorage.getItem(LOCAL_KEYS.refreshToken.key);
    return accessToken && refreshToken ? { accessToken, refreshToken } : undefined;
  },
  async write(tokens: Tokens | undefined) {
    if (tokens) {
      localStorage.setItem(LOCAL_KEYS.accessToken.key, tokens.accessToken);
      localStorage.setItem(LOCAL_KEYS.refreshToken.key, tokens.refreshToken);
    } else {
      forgetSignIn();
    }
  },
  exclusive: (fn) => navigator.locks.request("ozekai.refresh", fn),
};

/** Signed in as this username (null: signed out); kept in step with the stored tokens. */
export const username = signal<string | null>(localStorage.getItem(LOCAL_KEYS.username.key));

/** Forgets the sign-in here only (the API already ended it: sign-out, account deleted). */
export function forgetSignIn() {
  for (const { key } of Object.values(LOCAL_KEYS)) localStorage.removeItem(key);
  username.value = null;
}

// Another tab signing in or out changes this one's state too.
addEventListener("storage", (event) => {
  if (event.key === LOCAL_KEYS.username.key || event.key === null) username.value = localStorage.getItem(LOCAL_KEYS.username.key);
});

/** Tokens the API handed this tab outside sign-in (a password change ends every other sign-in). */
export const keepTokens = (tokens: Tokens) => store.write(tokens);

export function rememberUsername(name: string) {
  localStorage.setItem(LOCAL_KEYS.username.key, name);
  username.value = name;
}

export const client = createOzekaiClient({ baseUrl: location.origin, credentials: store });
export const api = client.api;

/** Signs in; on success remembers the username the account has (the login may have been an email). */
export async function signIn(login: string, password: string): Promise<Problem | undefined> {
  const { error } = await client.signIn(login, password);
  if (error) return error;
  const { data, error: accountError } = await api.GET("/v1/account");
  if (accountError) return accountError;
  rememberUsername(data.username);
  return undefined;
}

export async function signOut(): Promise<void> {
  await client.signOut();
  forgetSignIn();
}

/** A problem for a request that got no answer at all (offline, the server down). */
export const networkProblem = (error: unknown): Problem => ({
  type: "about:blank",
  title: "No answer from the server",
  status: 0,
  code: "internal",
  detail: `The request could not be sent or got no answer (${error instanceof Error ? error.message : String(error)}). Check your connection and try again.`,
  requestId: "",
});

/** The access token held now (the socket and the upload carry it themselves; every other call goes through `api`). */
export const heldAccessToken = () => localStorage.getItem(LOCAL_KEYS.accessToken.key);

/**
 * A workspace path in a `{path}` route: each segment percent-encoded, the slashes kept (the
 * routes' rule; openapi-fetch's default would encode the slashes too).
 */
export const workspacePath = (url: string, params: Record<string, unknown>) =>
  url.replace("{path}", String(params.path).split("/").map(encodeURIComponent).join("/"));
