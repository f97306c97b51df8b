import { z } from "@hono/zod-openapi";

export const TokenPairSchema = z
  .object({
    accessToken: z.string(),
    tokenType: z.literal("Bearer"),
    expiresIn: z.number().int().openapi({ description: "Seconds until the access token expires" }),
    refreshToken: z.string().openapi({ description: "Opaque, single use: each refresh returns a new one" }),
  })
  .openapi("TokenPair");

export const AcceptedSchema = z.object({ status: z.literal("accepted"), message: z.string() }).openapi("Accepted");

export const AccountSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    email: z.string(),
    emailVerified: z.boolean(),
    pendingEmail: z.string().nullable().openapi({ description: "New address awaiting verification" }),
    role: z.enum(["user", "admin"]),
    planId: z.string().nullable(),
    createdAt: z.string(),
    lastActiveAt: z.string(),
    policyVersion: z.string(),
    canStartSessions: z.boolean(),
    restrictions: z.array(z.string()).openapi({ description: "Why GPU sessions are refused: email_unverified, no_plan, subscription_past_due, subscription_canceled" }),
    usageLimitHours: z.number().int().nullable().openapi({
      description: "Your monthly GPU-time limit in session hours (UTC month): a billing email at 80% and at 100%; sessions are not disconnected at it",
    }),
  })
  .openapi("Account");

/** Passwords are never trimmed or normalised beyond NFKC at hashing; length rules are in the domain. */
export const passwordField = z.string().max(4096).openapi({ format: "password" });

export const bearerAuth = [{ bearerAuth: [] }];

/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } }, required: true });
/** A JSON success response. */
export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });

export const SessionSchema = z
  .object({
    id: z.string(),
    state: z.enum(["starting", "running", "stopping", "ended", "failed"]),
    planId: z.string(),
    workspaceId: z.string(),
    createdAt: z.string().openapi({ description: "When connect was asked for" }),
    startedAt: z.string().nullable().openapi({ description: "When the container ran: billing starts here" }),
    endedAt: z.string().nullable().openapi({ description: "When you disconnected (or it failed): billing stops here" }),
    durationMs: z.number().int().nullable().openapi({ description: "Billed time, once ended" }),
    resources: z.object({
      gpuType: z.string().nullable(),
      gpuCount: z.number().int(),
      cpus: z.number(),
      memoryMb: z.number().int(),
      pidsLimit: z.number().int(),
    }),
    ports: z.array(z.object({ name: z.string(), port: z.number().int() })),
  })
  .openapi("Session");

export const WorkspaceSchema = z
  .object({
    id: z.string(),
    state: z.enum(["hot", "archiving", "cold", "restoring", "deleting", "deleted"]),
    createdAt: z.string(),
    lastUsedAt: z.string(),
    deletedAt: z.string().nullable(),
    sizeBytes: z.number().int().nullable().openapi({ description: "Last measured size in bytes (in cold storage: the archive's size)" }),
    sizeMeasuredAt: z.string().nullable(),
    session: SessionSchema.nullable().openapi({ description: "The live session using the workspace" }),
    lastActivityAt: z.string().openapi({ description: "Policy §6: your account's last activity (sign-in, API use, connect, end of a session)" }),
    deletesAt: z
      .string()
      .nullable()
      .openapi({ description: "When the workspace will be deleted for inactivity (60 days after the last activity, at least 7 days after a warning email) unless there is activity first; null while a session is live or it is being deleted" }),
    transfer: z
      .object({
        bytes: z.number().int().openapi({ description: "Bytes moved so far" }),
        totalBytes: z.number().int().nullable().openapi({ description: "The size being moved; null until known" }),
      })
      .nullable()
      .openapi({ description: "Progress of the move to cold storage (`archiving`) or back (`restoring`); null otherwise" }),
  })
  .openapi("Workspace");

export const StoredFileSchema = z
  .object({
    path: z.string(),
    size: z.number().int().openapi({ description: "The file's size in bytes after this request" }),
    sha256: z.string().openapi({ description: "SHA-256 (hex) of the bytes this request carried: the whole file unless appending" }),
  })
  .openapi("StoredFile");
