/** Reading settings from the Worker's environment: one failure rule (`not_configured` naming the setting, never its value). */
import { z } from "zod";
import type { Env } from "../../env";
import { AppError } from "../errors";

export const jwkSchema = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), kid: z.string().min(1), d: z.string(), x: z.string() });

/** The settings `schema` reads from `env`, or `not_configured` naming what is wrong (names only: never values, they are secrets). */
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
    throw new AppError("not_configured", `Configuration is missing or invalid: ${missing}`);
  }
  return parsed.data;
}

/** Parsed once per isolate per distinct environment (keys are imported, which is async); a failure is not kept. */
export function cached<T>(cache: Map<string, Promise<T>>, key: string, parse: () => Promise<T>): Promise<T> {
  let value = cache.get(key);
  if (!value) {
    value = parse();
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
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
