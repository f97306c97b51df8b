/** The session sockets (shell, exec, port forwards): how long one WebSocket may live, and how often it re-checks the sign-in behind it (the SHELL_ settings cover all three). */
import { z } from "zod";
import type { Env } from "../../env";
import { parseEnv } from "./env";

export interface ShellConfig {
  /** After this the shell closes and the client reconnects with a fresh access token. */
  maxLifetimeMs: number;
  /** A revoked sign-in (logout, password change, deletion) closes its shells within this, plus the sign-in cache's few seconds. */
  signInCheckMs: number;
}

const shellEnvSchema = z.object({
  SHELL_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(1).max(7 * 86_400).default(12 * 3600),
  SHELL_SIGN_IN_CHECK_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
});

export function parseShellConfig(env: Env): ShellConfig {
  const e = parseEnv(shellEnvSchema, env);
  return { maxLifetimeMs: e.SHELL_MAX_LIFETIME_SECONDS * 1000, signInCheckMs: e.SHELL_SIGN_IN_CHECK_SECONDS * 1000 };
}
