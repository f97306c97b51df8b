/**
 * Which API a command talks to and as whom: the API URL (--api-url, OZEKAI_API_URL, else
 * production), the profile of that URL under the config dir (one file per API, 0600), and
 * OZEKAI_TOKEN, an access token for CI that is used as is and never stored.
 */
import { join } from "node:path";
import { type CredentialStore, createOzekaiClient, type OzekaiClient } from "@ozekai/client";
import { fileCredentialStore } from "@ozekai/client/file-store";
import envPaths from "env-paths";
import { CliError, problemError } from "./errors.ts";

export const PRODUCTION_API_URL = "https://api.ozekai.dev";

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/;

export type GlobalOptions = {
  apiUrl?: string;
  json?: true;
};

/** The API's origin from the flag, the environment or the default; a usage error if it is not an http(s) URL. */
export function resolveApiUrl(flag: string | undefined): string {
  const raw = flag ?? (process.env.OZEKAI_API_URL || PRODUCTION_API_URL);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError("usage", `The API URL ${JSON.stringify(raw)} is not a URL (e.g. http://localhost:8787).`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CliError("usage", `The API URL must be https:// (or http:// on this machine), not ${url.protocol}`);
  // Policy §5, every connection over TLS: passwords and tokens go in clear only to this machine (the dev server).
  if (url.protocol === "http:" && !LOOPBACK.test(url.hostname)) throw new CliError("usage", `${url.origin} is not encrypted: use https:// (http:// only for localhost).`);
  return url.origin;
}

/** $OZEKAI_CONFIG_DIR, else the XDG (or the OS's) config dir for ozekai. */
export const configDir = () => process.env.OZEKAI_CONFIG_DIR || envPaths("ozekai", { suffix: "" }).config;

/** The profile file of one API: its origin made a file name (http://localhost:8787 → http_localhost_8787.json). */
export const profilePath = (apiUrl: string) => join(configDir(), "profiles", `${apiUrl.replace(/[^A-Za-z0-9.-]+/g, "_")}.json`);

export interface Session {
  apiUrl: string;
  client: OzekaiClient;
  store: CredentialStore;
  /** Where the token comes from: OZEKAI_TOKEN, the stored profile, or nowhere. */
  tokenSource(): Promise<"OZEKAI_TOKEN" | "profile" | undefined>;
  /** Throws "not signed in" (exit 3) when no token is there at all, before any request. */
  requireSignIn(): Promise<void>;
  /** The access token requests carry now (OZEKAI_TOKEN, else the stored one), for what the client does not send itself: WebSockets, file bytes. */
  accessToken(): Promise<string | undefined>;
  /** After `rejected` was refused with 401 `unauthorized`: the client's one refresh (never for OZEKAI_TOKEN, which is used as is). */
  refreshAfterRejection(rejected: string): Promise<{ token: string } | { response: Response } | undefined>;
}

export interface SessionSettings {
  ignoreEnvToken?: boolean;
  /** Per request (the client's default is 30 s): a connect that restores a workspace may take longer. */
  timeoutMs?: number;
  /**
   * A client for file transfers, whose requests run as long as the host takes (a file's SHA-256
   * reads all of it; the transfer's own signal ends a stalled one). The bytes themselves go
   * through files/http.ts, not this client.
   */
  transfers?: boolean;
}

export function openSession(options: GlobalOptions, settings: SessionSettings = {}): Session {
  const apiUrl = resolveApiUrl(options.apiUrl);
  const store = fileCredentialStore(profilePath(apiUrl));
  const envToken = settings.ignoreEnvToken ? undefined : process.env.OZEKAI_TOKEN || undefined;
  const transfer = settings.transfers ? { timeoutMs: null } : { timeoutMs: settings.timeoutMs };
  const client = createOzekaiClient({ baseUrl: apiUrl, credentials: store, accessToken: envToken, ...transfer });
  const tokenSource = async () => (envToken ? "OZEKAI_TOKEN" : (await store.read()) ? "profile" : undefined);
  return {
    apiUrl,
    client,
    store,
    tokenSource,
    accessToken: async () => envToken ?? (await store.read())?.accessToken,
    refreshAfterRejection: (rejected) => client.refreshAfterRejection(rejected),
    async requireSignIn() {
      if (!(await tokenSource())) throw new CliError("not_signed_in", `Not signed in to ${apiUrl}. Sign in with \`ozekai login\` (or set OZEKAI_TOKEN).`);
    },
  };
}

/** The data of an openapi-fetch result, or its problem as a CliError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) throw problemError(result.response, result.error);
  return result.data as T;
}
