/**
 * The SSH public keys of an account: what sessions let in over SSH (installed for the session's
 * user at every connect, and pushed to the running session on every change;
 * docs/decisions/0039-ssh-into-sessions.md). Every query filters by owner.
 */
import { and, asc, eq } from "drizzle-orm";
import { parseSshPublicKey, sshFingerprint } from "../../../contract/ssh-keys";
import { sessions, sshKeys } from "../../../schema";
import { auditEvent } from "../audit";
import type { DomainContext } from "../context";
import { isUniqueViolation, newId } from "../db";
import { AppError, fieldError } from "../errors";
import { findUser } from "../owned";
import { findImage } from "../plans";

/** Enough for every machine a person works from; a bound on what each connect installs. */
export const MAX_SSH_KEYS = 50;

export interface SshKeyView {
  id: string;
  name: string;
  type: string;
  bits: number;
  fingerprint: string;
  createdAt: string;
}

const toView = (row: typeof sshKeys.$inferSelect): SshKeyView => ({
  id: row.id,
  name: row.name,
  type: row.type,
  bits: row.bits,
  fingerprint: row.fingerprint,
  createdAt: row.createdAt.toISOString(),
});

export async function listSshKeys(ctx: DomainContext, userId: string): Promise<SshKeyView[]> {
  const rows = await ctx.db.select().from(sshKeys).where(eq(sshKeys.userId, userId)).orderBy(asc(sshKeys.createdAt), asc(sshKeys.id));
  return rows.map(toView);
}

/** Adds a key (Ed25519, or RSA ≥ 3072 bits); its name is the one given, else the line's comment, else its fingerprint. */
export async function addSshKey(ctx: DomainContext, userId: string, input: { publicKey: string; name?: string }): Promise<SshKeyView> {
  await findUser(ctx, userId);
  const parsed = parseSshPublicKey(input.publicKey);
  if (!parsed.ok) throw new AppError("ssh_key_unsupported", parsed.reason, { fields: [{ field: "publicKey", message: parsed.reason }] });
  const existing = await ctx.db.select({ id: sshKeys.id }).from(sshKeys).where(eq(sshKeys.userId, userId));
  if (existing.length >= MAX_SSH_KEYS) throw fieldError("publicKey", `An account holds at most ${MAX_SSH_KEYS} SSH keys; remove one first.`);
  const fingerprint = await sshFingerprint(parsed.blob);
  const row = {
    id: newId(),
    userId,
    name: input.name?.trim() || parsed.comment || fingerprint,
    type: parsed.type,
    bits: parsed.bits,
    publicKey: parsed.key,
    fingerprint,
    createdAt: ctx.clock.now(),
  };
  try {
    await ctx.db.batch([ctx.db.insert(sshKeys).values(row), auditEvent(ctx, userId, "ssh_key_added", { fingerprint })]);
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("ssh_key_exists", `This key (${fingerprint}) is already on your account.`);
    throw error;
  }
  await pushToRunningSession(ctx, userId);
  return toView(row);
}

/** Removes a key: the running session and every later one no longer let it in. */
export async function removeSshKey(ctx: DomainContext, userId: string, keyId: string): Promise<void> {
  const owned = and(eq(sshKeys.id, keyId), eq(sshKeys.userId, userId));
  const key = await ctx.db.select({ fingerprint: sshKeys.fingerprint }).from(sshKeys).where(owned).get();
  if (!key) throw new AppError("not_found", "You have no SSH key with this id.");
  await ctx.db.batch([ctx.db.delete(sshKeys).where(owned), auditEvent(ctx, userId, "ssh_key_removed", { fingerprint: key.fingerprint })]);
  await pushToRunningSession(ctx, userId);
}

/**
 * The running session lets in the account's new set of keys at once: a removed key stops working
 * now, not only at the next connect. If the host cannot be reached, the change stands anyway and
 * the next connect installs the set (it always writes it anew).
 */
async function pushToRunningSession(ctx: DomainContext, userId: string): Promise<void> {
  const running = await ctx.db
    .select({ id: sessions.id, hostId: sessions.hostId, image: sessions.image })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), eq(sessions.state, "running")))
    .get();
  if (!running || !findImage(running.image)?.ssh) return; // no SSH server in its image: nothing to tell
  const keys = await ctx.db.select({ publicKey: sshKeys.publicKey }).from(sshKeys).where(eq(sshKeys.userId, userId));
  try {
    await (await ctx.provisioner(running.hostId)).replaceSshKeys(running.id, keys.map((k) => k.publicKey));
  } catch (error) {
    ctx.log.warn("ssh_keys_not_pushed", { code: error instanceof AppError ? error.code : "internal" });
  }
}
