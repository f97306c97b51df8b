import { randomUUID, type webcrypto } from "node:crypto";
import { errors, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { MAX_TOKEN_LIFETIME_SECONDS, PROVISIONER_AUDIENCE, PROVISIONER_ISSUER } from "../../contract/provisioner.ts";
import { ProvisionerError } from "./errors.ts";

/**
 * Worker → provisioner request tokens. Each request carries an EdDSA JWT minted by the Worker for
 * that one method and path, living at most 60 s (ARCHITECTURE "Worker ↔ provisioner"). The
 * provisioner holds only the public key: nothing on a GPU host can mint a token.
 */

/** Clock skew allowed between the Worker and a GPU host. */
const CLOCK_TOLERANCE_SECONDS = 5;
const ALGORITHM = "EdDSA";

type SigningKey = Parameters<SignJWT["sign"]>[0];
export type VerifyingKey = webcrypto.CryptoKey;

/**
 * Mints the token for one request. `path` is the URL path as sent, without the query string.
 * The Worker's provisioner adapter does exactly this with its private key.
 */
export async function signProvisionerRequest(
  privateKey: SigningKey,
  method: string,
  path: string,
  options: { lifetimeSeconds?: number; now?: number } = {},
): Promise<string> {
  if (!path.startsWith("/") || path.includes("?") || path.includes("#")) {
    throw new TypeError("path must be an absolute URL path without query or fragment");
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const lifetime = options.lifetimeSeconds ?? 30;
  return new SignJWT({ htm: method.toUpperCase(), htu: path })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setIssuer(PROVISIONER_ISSUER)
    .setAudience(PROVISIONER_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetime)
    .setJti(randomUUID())
    .sign(privateKey);
}

/**
 * Reads PROVISIONER_PUBLIC_JWK. Refuses anything but an Ed25519 public key: a JWK that carries the
 * private part (`d`) means the signing key was copied to a GPU host, which must not happen.
 */
export async function importProvisionerPublicKey(jwkJson: string | undefined): Promise<VerifyingKey> {
  if (!jwkJson) throw new Error("PROVISIONER_PUBLIC_JWK is not set");
  let jwk: unknown;
  try {
    jwk = JSON.parse(jwkJson);
  } catch {
    throw new Error("PROVISIONER_PUBLIC_JWK is not valid JSON");
  }
  if (typeof jwk !== "object" || jwk === null) throw new Error("PROVISIONER_PUBLIC_JWK must be a JWK object");
  const { kty, crv, x } = jwk as JWK;
  if ("d" in jwk) throw new Error("PROVISIONER_PUBLIC_JWK holds a private key; give the provisioner the public key only");
  if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") {
    throw new Error("PROVISIONER_PUBLIC_JWK must be an Ed25519 public key (kty OKP, crv Ed25519)");
  }
  const key = await importJWK({ kty, crv, x }, ALGORITHM);
  if (key instanceof Uint8Array || key.type !== "public") throw new Error("PROVISIONER_PUBLIC_JWK did not import as a public key");
  return key;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

/** Throws `unauthorized` unless the header carries a valid token bound to this method and path. */
export async function verifyProvisionerRequest(
  publicKey: VerifyingKey,
  authorization: string | null | undefined,
  method: string,
  path: string,
): Promise<void> {
  const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (!token) throw new ProvisionerError("unauthorized", "missing bearer token");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, publicKey, {
      algorithms: [ALGORITHM],
      audience: PROVISIONER_AUDIENCE,
      issuer: PROVISIONER_ISSUER,
      requiredClaims: ["exp", "iat", "htm", "htu"],
      maxTokenAge: MAX_TOKEN_LIFETIME_SECONDS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    const expired = error instanceof errors.JWTExpired;
    throw new ProvisionerError("unauthorized", expired ? "token expired" : "invalid token");
  }
  const { exp, iat, htm, htu } = payload;
  // jose checks exp and the token's age; the lifetime the Worker asked for is bounded here.
  if (typeof exp !== "number" || typeof iat !== "number" || exp - iat > MAX_TOKEN_LIFETIME_SECONDS) {
    throw new ProvisionerError("unauthorized", "token lifetime exceeds 60 s");
  }
  if (htm !== method.toUpperCase() || htu !== path) {
    throw new ProvisionerError("unauthorized", "token not bound to this request");
  }
}
