import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { AppError } from "../../domain/errors";
import type { HonoEnv } from "../types";
import { clientIp } from "./request";

const tooMany = () => new AppError("rate_limited", "Too many attempts; wait a minute and try again.");

/** Auth routes are limited per client IP, before validation so malformed requests count too … */
export const limitByIp = createMiddleware<HonoEnv>(async (c, next) => {
  const { success } = await c.env.AUTH_IP_LIMITER.limit({ key: `ip:${ipKey(clientIp(c.req.raw))}` });
  if (!success) throw tooMany();
  await next();
});

/**
 * An IPv6 client usually holds a whole /64 and can pick any address in it: the limit keys by that
 * prefix, so walking addresses gives no fresh budget. IPv4 keys by the address.
 */
export function ipKey(ip: string | null): string {
  if (!ip) return "unknown";
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) is the last 32 bits: outside the /64 prefix either way.
  const groups = ip.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g || "0", 16).toString(16))
    .join(":")}::/64`;
}

/** … and per account (its id, or the address or name tried; hashed so the limiter never holds it in clear). */
export async function limitByAccount(c: Context<HonoEnv>, account: string, limiter: RateLimit = c.env.AUTH_ACCOUNT_LIMITER, scope = "acct"): Promise<void> {
  const { success } = await limiter.limit({ key: `${scope}:${bytesToHex(sha256(utf8ToBytes(account)))}` });
  if (!success) throw tooMany();
}

/**
 * Signed-in routes whose every call costs a host real work (a container to create, a volume to
 * read): a looser per-account budget of their own, one per route, so polling one never starves another.
 */
export const limitSignedInRoute = (route: string) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    const userId = c.get("principal")?.user.id;
    if (!userId) throw new AppError("unauthorized");
    await limitByAccount(c, userId, c.env.API_ACCOUNT_LIMITER, route);
    await next();
  });
