import { z } from "@hono/zod-openapi";
import {
  DirectoryListingSchema as DirectoryListing,
  RemovedPathSchema as RemovedPath,
  StoredFileSchema as StoredFile,
  UnpackedArchiveSchema as UnpackedArchive,
} from "../../contract/provisioner";

export { SessionSchema } from "../domain/sessions";
export { WorkspaceSchema } from "../domain/workspaces";

/** The file a transfer wrote, as the host reports it (the Worker passes it on as it is). */
export const StoredFileSchema = StoredFile.openapi("StoredFile");
export const DirectoryListingSchema = DirectoryListing.openapi("DirectoryListing");
export const RemovedPathSchema = RemovedPath.openapi("RemovedPath");
/** A tar unpacked into the workspace: every file it wrote, with its SHA-256. */
export const UnpackedArchiveSchema = UnpackedArchive.openapi("UnpackedArchive");

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
    policy: z
      .object({
        acceptedVersion: z.string(),
        acceptedAt: z.string().openapi({ description: "When it was accepted: at signup, or with POST /v1/policy/accept" }),
        currentVersion: z.string(),
        newerAvailable: z.boolean().openapi({ description: "A newer version than the one accepted is in force (policy §11); read it at GET /v1/policy" }),
      })
      .openapi({ description: "The privacy policy version you last accepted (policy §11)" }),
    canStartSessions: z.boolean(),
    restrictions: z.array(z.string()).openapi({ description: "Why GPU sessions are refused: email_unverified, no_plan, subscription_past_due, subscription_canceled" }),
    usageLimitHours: z.number().int().nullable().openapi({
      description: "Your monthly GPU-time limit in session hours (UTC month): a billing email at 80% and at 100%",
    }),
    usageLimitAction: z.enum(["notify", "disconnect"]).openapi({
      description: "At the limit: `notify` emails only; `disconnect` also disconnects the running session and refuses new ones until the month ends or the limit is raised or removed",
    }),
    privacy: z.object({
      aggregateAnalysisObjectedAt: z.string().nullable().openapi({ description: "When you objected to aggregate analysis (PUT /v1/privacy/objections); null when you did not" }),
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
