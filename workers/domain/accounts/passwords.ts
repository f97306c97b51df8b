import { dictionary } from "@zxcvbn-ts/language-common";
import { base64 } from "@scure/base";
import { hmac } from "@noble/hashes/hmac.js";
import { sha384 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";
import bcrypt from "bcryptjs";
import type { Config } from "../config";
import { fieldError } from "../errors";

/** ASVS 2.1: at least 8 characters, long passwords accepted, no composition rules. */
export const PASSWORD_MIN_LENGTH = 8;
/** Generous: the HMAC pre-hash makes any length cost the same; this only bounds abuse. */
export const PASSWORD_MAX_LENGTH = 1024;

let common: Set<string> | undefined;
/** zxcvbn-ts's list of common passwords (a maintained package), loaded once per isolate. */
const commonPasswords = () => {
  common ??= new Set((dictionary["passwords-common"] as string[]).map((p) => p.toLowerCase()));
  return common;
};

/** Throws a field-level validation error when `password` is not acceptable for this account. */
export function checkNewPassword(password: string, field: string, account: { username?: string; email?: string }): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw fieldError(field, `Use at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (length > PASSWORD_MAX_LENGTH) throw fieldError(field, `Use at most ${PASSWORD_MAX_LENGTH} characters.`);
  const lower = password.toLowerCase();
  if (commonPasswords().has(lower)) throw fieldError(field, "This password is too common; choose another.");
  if (lower === account.username?.toLowerCase() || lower === account.email?.toLowerCase()) {
    throw fieldError(field, "The password must not be your username or email address.");
  }
}

/**
 * bcrypt reads at most 72 bytes. Pre-hashing with HMAC-SHA-384 under a server-side pepper gives
 * 64 base64 characters for any password, so nothing past 72 bytes is ignored and a database leak
 * alone cannot be brute-forced without the pepper.
 */
const preHash = (password: string, pepper: Uint8Array) => base64.encode(hmac(sha384, pepper, utf8ToBytes(password.normalize("NFKC"))));

export const hashPassword = (password: string, config: Config) => bcrypt.hash(preHash(password, config.pepper), config.bcryptCost);

let dummyHash: { cost: number; hash: Promise<string> } | undefined;

/**
 * Compares in the same time whether or not the account exists: an unknown account is checked
 * against a dummy hash of the same cost (no account enumeration by timing).
 */
export async function verifyPassword(password: string, hash: string | null | undefined, config: Config): Promise<boolean> {
  if (!hash) {
    if (dummyHash?.cost !== config.bcryptCost) {
      dummyHash = { cost: config.bcryptCost, hash: bcrypt.hash("ozekai-dummy-password", config.bcryptCost) };
    }
    await bcrypt.compare(preHash(password, config.pepper), await dummyHash.hash);
    return false;
  }
  return bcrypt.compare(preHash(password, config.pepper), hash);
}
