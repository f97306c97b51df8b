import type { webcrypto } from "node:crypto";
import { errors, importJWK, type JWK, jwtVerify } from "jose";
import {
  BINDING_CLAIMS,
  MAX_TOKEN_LIFETIME_SECONDS,
  PROVISIONER_ISSUER,
  PROVISIONER_TOKEN_TYPE,
  requestBinding,
  type SignedBody,
} from "../../contract/provisioner-token.ts";
import { ProvisionerError } from "./errors.ts";

/**
 * The provisioner's check of the Worker's request tokens (contract/provisioner-token.ts mints
 * them; docs/decisions/0013-provisioner-request-binding.md). A token is good for one request to
 * this host, once, within 60 s, and never after a restart. The provisioner holds only public keys:
 * nothing on a GPU host can mint a token.
 */

/** Clock skew allowed between the Worker and a GPU host. */
const CLOCK_TOLERANCE_SECONDS = 5;
const ALGORITHM = "EdDSA";
/** Unexpired tokens remembered at most: about 1,600 requests a second for a minute, a few MB. */
export const MAX_REMEMBERED_TOKENS = 100_000;

export type VerifyingKey = webcrypto.CryptoKey;
/** The Worker's public keys by `kid`: several while keys rotate. */
export type TrustedKeys = ReadonlyMap<string, VerifyingKey>;

const refused = (why: string) => new ProvisionerError("unauthorized", why);

/**
 * Reads PROVISIONER_PUBLIC_JWK: one JWK or a JWK Set (`{"keys":[…]}`), each an Ed25519 public key
 * with its `kid`. A JWK that carries the private part (`d`) means the signing key was copied to a
 * GPU host, which must not happen: refused.
 */
export async function importProvisionerPublicKeys(json: string | undefined): Promise<TrustedKeys> {
  if (!json) throw new Error("PROVISIONER_PUBLIC_JWK is not set");
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error("PROVISIONER_PUBLIC_JWK is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw new Error("PROVISIONER_PUBLIC_JWK must be a JWK or a JWK Set");
  const list: unknown = "keys" in parsed ? parsed.keys : [parsed];
  if (!Array.isArray(list) || list.length === 0) throw new Error("PROVISIONER_PUBLIC_JWK: a JWK Set needs a non-empty `keys` array");
  const keys = new Map<string, VerifyingKey>();
  for (const jwk of list as unknown[]) {
    if (typeof jwk !== "object" || jwk === null) throw new Error("PROVISIONER_PUBLIC_JWK must hold JWK objects");
    if ("d" in jwk) throw new Error("PROVISIONER_PUBLIC_JWK holds a private key; give the provisioner the public key only");
    const { kty, crv, x, kid } = jwk as JWK;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") {
      throw new Error("PROVISIONER_PUBLIC_JWK must hold Ed25519 public keys (kty OKP, crv Ed25519)");
    }
    if (typeof kid !== "string" || kid === "") throw new Error("PROVISIONER_PUBLIC_JWK: every key needs the `kid` of the Worker's PROVISIONER_PRIVATE_KEY");
    if (keys.has(kid)) throw new Error(`PROVISIONER_PUBLIC_JWK: kid ${kid} appears twice`);
    const key = await importJWK({ kty, crv, x }, ALGORITHM);
    if (key instanceof Uint8Array || key.type !== "public") throw new Error("PROVISIONER_PUBLIC_JWK did not import as a public key");
    keys.set(kid, key);
  }
  return keys;
}

/**
 * The ids of the tokens this process accepted, each kept until its token expires, and when the
 * process started: a token minted earlier may have been seen by the process before a restart,
 * whose memory is gone, so it is refused.
 */
export class AcceptedTokens {
  readonly startedAt = Math.floor(Date.now() / 1000);
  readonly #expiries = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity = MAX_REMEMBERED_TOKENS) {
    this.#capacity = capacity;
  }

  /**
   * Records a token id (seconds: `expiresAt` and `now`). Refuses one seen before, and any while
   * the store is full of unexpired ids: forgetting one would let its token be replayed.
   */
  accept(jti: string, expiresAt: number, now: number): "accepted" | "replayed" | "full" {
    if (this.#expiries.has(jti)) return "replayed";
    if (this.#expiries.size >= this.#capacity) {
      for (const [id, expiry] of this.#expiries) if (expiry < now) this.#expiries.delete(id);
      if (this.#expiries.size >= this.#capacity) return "full";
    }
    this.#expiries.set(jti, expiresAt);
    return "accepted";
  }
}

/** What the provisioner trusts and remembers: its own registry id, the Worker's keys, the tokens it accepted. */
export type TokenCheck = { hostId: string; keys: TrustedKeys; accepted: AcceptedTokens };

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)$/;

/**
 * Throws unless the header carries a valid token for this host, bound to this request (method,
 * path, query, body) and not used before. `target` is the URL path as received with its query;
 * `body` is read only once the token's signature holds.
 */
export async function verifyProvisionerRequest(
  check: TokenCheck,
  authorization: string | null | undefined,
  request: { method: string; target: string; body: () => Promise<SignedBody | undefined> },
): Promise<void> {
  const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (!token) throw refused("missing bearer token");
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(
      token,
      ({ kid }) => {
        const key = kid === undefined ? undefined : check.keys.get(kid);
        if (!key) throw refused("unknown key id");
        return key;
      },
      {
        algorithms: [ALGORITHM],
        typ: PROVISIONER_TOKEN_TYPE,
        audience: check.hostId,
        issuer: PROVISIONER_ISSUER,
        requiredClaims: ["exp", "iat", "jti", "htm", "htu", "htq"],
        maxTokenAge: MAX_TOKEN_LIFETIME_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      },
    ));
  } catch (error) {
    if (error instanceof ProvisionerError) throw error;
    throw refused(error instanceof errors.JWTExpired ? "token expired" : "invalid token");
  }
  const { exp, iat, jti } = payload;
  // jose checks exp and the token's age; the lifetime the Worker asked for is bounded here.
  if (typeof exp !== "number" || typeof iat !== "number" || exp - iat > MAX_TOKEN_LIFETIME_SECONDS) throw refused("token lifetime exceeds 60 s");
  if (typeof jti !== "string" || jti === "") throw refused("invalid token");
  if (iat < check.accepted.startedAt) throw refused("token issued before this provisioner started");
  const expected = await requestBinding(request.method, request.target, await request.body());
  if (BINDING_CLAIMS.some((claim) => payload[claim] !== expected[claim])) throw refused("token not bound to this request");
  // Last, so a request refused above never uses up the token of the genuine one; check and record
  // run without an await between them, so of two requests with one token exactly one is accepted.
  const outcome = check.accepted.accept(jti, exp + CLOCK_TOLERANCE_SECONDS, Math.floor(Date.now() / 1000));
  if (outcome === "replayed") throw refused("token already used");
  if (outcome === "full") throw new ProvisionerError("too_many_tokens");
}
