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
  const { success } = await c.env.AUTH_IP_LIMITER.limit({ key: `ip:${clientIp(c.req.raw) ?? "unknown"}` });
  if (!success) throw tooMany();
  await next();
});

/** … and per account (its id, or the address or name tried; hashed so the limiter never holds it in clear). */
export async function limitByAccount(c: Context<HonoEnv>, account: string): Promise<void> {
  const { success } = await c.env.AUTH_ACCOUNT_LIMITER.limit({ key: `acct:${bytesToHex(sha256(utf8ToBytes(account)))}` });
  if (!success) throw tooMany();
}
