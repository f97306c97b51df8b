import { base64url } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
import type { Config } from "../config";
import { newId } from "../db";
import { AppError } from "../errors";

/** Access tokens live 15 minutes (≤ 1 h, ARCHITECTURE "Auth"); refresh tokens rotate on each use. */
export const ACCESS_TOKEN_TTL_S = 15 * 60;

export const REFRESH_TOKEN_TTL_MS = 30 * 86_400_000;

export const LOGIN_SESSION_TTL_MS = 90 * 86_400_000;

const ALG = "EdDSA";

/** 256 bits from the CSPRNG, base64url: refresh, verification and reset tokens. */
export const newOpaqueToken = () => base64url.encode(crypto.getRandomValues(new Uint8Array(32))).replace(/=+$/, "");

/** Opaque tokens are stored only as their SHA-256 (ARCHITECTURE "Data"). */
export const hashToken = (token: string) => bytesToHex(sha256(utf8ToBytes(token)));

export interface AccessClaims {
  userId: string;
  loginSessionId: string;
}

export async function signAccessToken(config: Config, claims: AccessClaims, now: Date): Promise<string> {
  const key = config.accessKeys[0]!;
  const iat = Math.floor(now.getTime() / 1000);
  return new SignJWT({ sid: claims.loginSessionId })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "at+jwt" })
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setSubject(claims.userId)
    .setJti(newId())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ACCESS_TOKEN_TTL_S)
    .sign(key.privateKey);
}

const unauthorized = (detail: string) => new AppError("unauthorized", detail);

/** Bounds the isolate's memory; when full the map starts over rather than evicting one by one. */
const MAX_VERIFIED = 10_000;

/**
 * Tokens whose signature and claims were verified in this isolate, per parsed configuration (a
 * key rotation parses a new one): a token comes back on every request of its 15 minutes, and its
 * signature cannot change, so only the clock is checked again.
 */
const verified = new WeakMap<Config, Map<string, AccessClaims & { expiresAtMs: number }>>();

/** Pinned algorithm and `typ`, known `kid`, required `iss`, `aud`, `exp`; anything else is a 401. */
export async function verifyAccessToken(config: Config, token: string, now: Date): Promise<AccessClaims> {
  let known = verified.get(config);
  const hit = known?.get(token);
  if (hit) {
    if (now.getTime() < hit.expiresAtMs) return { userId: hit.userId, loginSessionId: hit.loginSessionId };
    throw unauthorized("The access token has expired; refresh it.");
  }
  const claims = await verifySignedAccessToken(config, token, now);
  if (!known) {
    known = new Map();
    verified.set(config, known);
  }
  if (known.size >= MAX_VERIFIED) known.clear();
  known.set(token, claims);
  return { userId: claims.userId, loginSessionId: claims.loginSessionId };
}

async function verifySignedAccessToken(config: Config, token: string, now: Date): Promise<AccessClaims & { expiresAtMs: number }> {
  let kid: string | undefined;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== ALG) throw unauthorized("The access token is not valid.");
    kid = header.kid;
  } catch {
    throw unauthorized("The access token is not valid.");
  }
  const key = config.accessKeys.find((k) => k.kid === kid);
  if (!key) throw unauthorized("The access token is not valid.");
  try {
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [ALG],
      // RFC 9068: only an access token is one; any other JWT signed with this key is refused.
      typ: "at+jwt",
      issuer: config.issuer,
      audience: config.audience,
      requiredClaims: ["exp", "iat", "sub", "jti", "sid"],
      currentDate: now,
      maxTokenAge: ACCESS_TOKEN_TTL_S + 60,
    });
    if (typeof payload.sid !== "string" || typeof payload.sub !== "string" || typeof payload.exp !== "number" || typeof payload.iat !== "number") throw new Error("claims");
    // maxTokenAge bounds a token by its iat too: the earlier of the two ends it.
    const expiresAtMs = Math.min(payload.exp, payload.iat + ACCESS_TOKEN_TTL_S + 60) * 1000;
    return { userId: payload.sub, loginSessionId: payload.sid, expiresAtMs };
  } catch (error) {
    const expired = error instanceof Error && "code" in error && error.code === "ERR_JWT_EXPIRED";
    throw unauthorized(expired ? "The access token has expired; refresh it." : "The access token is not valid.");
  }
}
