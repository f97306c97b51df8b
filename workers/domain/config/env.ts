/** Reading settings from the Worker's environment, with one failure rule: `not_configured` naming the setting, never its value. */
import { z } from "zod";
import type { Env } from "../../env";
import { AppError } from "../errors";

export const jwkSchema = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), kid: z.string().min(1), d: z.string(), x: z.string() });

export const invalid = (what: string) => new AppError("not_configured", `Configuration is invalid: ${what}`);

/**
 * The settings `schema` reads from `env`: an unset or empty variable takes its default, a value
 * that does not parse is `not_configured` naming it (names only: values may be secrets).
 */
export function parseEnv<T extends z.ZodObject>(schema: T, env: Env): z.infer<T> {
  const values = Object.fromEntries(Object.keys(schema.shape).map((name) => [name, (env as unknown as Record<string, unknown>)[name] || undefined]));
  const parsed = schema.safeParse(values);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join(".")))].join(", ");
    throw new AppError("not_configured", `Configuration is missing or invalid: ${names}`);
  }
  return parsed.data;
}

const LOOPBACK_HOSTS = new Set(["localhost", "[::1]"]);
const isLoopback = (hostname: string) => LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);

/**
 * A service's base URL (a provisioner, Stripe's API), or null when it is not acceptable: an origin
 * only (the signed path is the whole URL path), https except on loopback — plain http is for a
 * service on this machine (a local provisioner, the tests' fake Stripe), never something a
 * forgotten setting could send over a network.
 */
export function serviceOrigin(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
  const originOnly = (url.pathname === "/" || url.pathname === "") && !url.search && !url.hash && !url.username && !url.password;
  return secure && originOnly ? url.origin : null;
}
