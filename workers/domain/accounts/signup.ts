/** Sign-up, without account enumeration: whatever exists, the answer is the same and the outcome goes to the mailbox by email. */
import { eq, or } from "drizzle-orm";
import { users } from "../../../schema";
import { accountEmails } from "../../adapters/email";
import { auditEvent } from "../audit";
import { afterResponse, type DomainContext } from "../context";
import { isUniqueViolation, newId } from "../db";
import { fieldError } from "../errors";
import { currentPolicy } from "../privacy";
import { checkNewPassword, hashPassword } from "./passwords";
import { link, singleUseToken, VERIFY_TTL_MS } from "./single-use";

export interface SignupInput {
  username: string;
  email: string;
  password: string;
  policyVersion: string;
}

/**
 * Same answer whether the address or username exists (no account enumeration): the outcome is
 * told to the mailbox owner by email, and a password is hashed on every path so timing matches.
 */
export async function signup(ctx: DomainContext, input: SignupInput): Promise<void> {
  const { version } = await currentPolicy(ctx);
  if (input.policyVersion !== version) throw fieldError("policyVersion", `Accept the current privacy policy (version ${version}).`);
  checkNewPassword(input.password, "password", input);
  const passwordHash = await hashPassword(input.password, ctx.config);
  const existing = await ctx.db
    .select({ email: users.email, username: users.username })
    .from(users)
    .where(or(eq(users.email, input.email), eq(users.username, input.username)));
  if (existing.some((u) => u.email === input.email)) {
    ctx.email.send(input.email, accountEmails.signupWithExistingAddress(`${ctx.config.appUrl}/reset-password`));
    return;
  }
  if (existing.length > 0) {
    ctx.email.send(input.email, accountEmails.signupUsernameTaken(input.username));
    return;
  }
  // Off the response path: the branches above write nothing, and this one must not answer slower.
  afterResponse(ctx, "signup", () => createAccount(ctx, input, passwordHash));
}

async function createAccount(ctx: DomainContext, input: SignupInput, passwordHash: string): Promise<void> {
  const now = ctx.clock.now();
  const id = newId();
  const verify = singleUseToken(ctx, id, "verify_email", VERIFY_TTL_MS);
  try {
    await ctx.db.batch([
      ctx.db.insert(users).values({
        id,
        username: input.username,
        email: input.email,
        passwordHash,
        createdAt: now,
        lastActiveAt: now,
        policyVersion: input.policyVersion,
        ageConfirmedAt: now,
      }),
      verify.insert,
      auditEvent(ctx, id, "signup", { policyVersion: input.policyVersion }),
    ]);
  } catch (error) {
    // A concurrent signup took the address or name between the check and the insert.
    if (isUniqueViolation(error)) return;
    throw error;
  }
  ctx.email.send(input.email, accountEmails.verifyAddress(link(ctx, "/verify-email", verify.token)));
}
