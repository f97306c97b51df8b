import { createRoute, z } from "@hono/zod-openapi";
import { changePassword, deleteAccount, emailField, getAccount, updateAccount, usageLimitActionField, usageLimitField, usernameField } from "../../domain/accounts";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitByAccount } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { AccountSchema, bearerAuth, jsonBody, jsonResponse, passwordField, TokenPairSchema } from "../schemas";

const protectedRoute = { tags: ["account"], security: bearerAuth, middleware: requireUser };

const getRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/",
  summary: "Your account, including whether you can start GPU sessions",
  responses: { 200: jsonResponse(AccountSchema, "The account"), ...errorResponses("unauthorized") },
});

const patchRoute = createRoute({
  ...protectedRoute,
  method: "patch",
  path: "/",
  summary:
    "Correct your username or email (policy §7; needs the current password; a new email is verified at that address first and the old one can undo the change), or set your monthly usage limit",
  request: {
    body: jsonBody(
      z
        .strictObject({
          username: usernameField.optional(),
          email: emailField.optional(),
          usageLimitHours: usageLimitField.optional().openapi({ description: "Monthly GPU-time limit in hours, 1–10000, or null for none: a billing email at 80% and 100%" }),
          usageLimitAction: usageLimitActionField.optional().openapi({
            description:
              "What happens at the limit: `notify` (the default) emails only; `disconnect` also disconnects the running session (workspace kept, billing stops) and refuses new ones until the month ends or the limit is raised or removed",
          }),
          currentPassword: passwordField.optional().openapi({ description: "Required to change username or email" }),
        })
        .refine(
          (b) => b.username !== undefined || b.email !== undefined || b.usageLimitHours !== undefined || b.usageLimitAction !== undefined,
          "Send username, email, usageLimitHours, usageLimitAction or any of them.",
        )
        .refine((b) => (b.username === undefined && b.email === undefined) || b.currentPassword !== undefined, {
          path: ["currentPassword"],
          message: "Send your current password to change your username or email.",
        }),
    ),
  },
  responses: { 200: jsonResponse(AccountSchema, "The account"), ...errorResponses("validation_failed", "unauthorized", "current_password_incorrect", "username_taken", "rate_limited") },
});

const deleteRoute = createRoute({
  ...protectedRoute,
  method: "delete",
  path: "/",
  summary: "Delete your account (policy §7): every sign-in ends and personal data is erased",
  description:
    "Within minutes the subscription is canceled at Stripe (no final invoice, no proration) and the Stripe customer deleted, retried until Stripe confirms; only what billing law needs is kept, under the account's pseudonymous id.",
  request: { body: jsonBody(z.strictObject({ password: passwordField })) },
  responses: {
    202: jsonResponse(z.object({ status: z.literal("deleted") }), "Deleted"),
    ...errorResponses("validation_failed", "unauthorized", "current_password_incorrect"),
  },
});

const passwordRoute = createRoute({
  ...protectedRoute,
  method: "put",
  path: "/password",
  summary: "Change your password (needs the current one); ends every other sign-in",
  request: { body: jsonBody(z.strictObject({ currentPassword: passwordField, newPassword: passwordField })) },
  responses: { 200: jsonResponse(TokenPairSchema, "New tokens for this client"), ...errorResponses("validation_failed", "unauthorized", "current_password_incorrect") },
});

export const accountRoutes = newApp()
  .openapi(getRoute, async (c) => c.json(await getAccount(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(patchRoute, async (c) => {
    // Per account: each email change sends a message to an address the caller chose.
    const principal = principalOf(c);
    await limitByAccount(c, principal.user.id);
    return c.json(await updateAccount(c.get("domain"), principal.user.id, c.req.valid("json")), 200);
  })
  .openapi(deleteRoute, async (c) => {
    const principal = principalOf(c);
    await limitByAccount(c, principal.user.id);
    await deleteAccount(c.get("domain"), principal.user.id, c.req.valid("json").password);
    c.set("accountDeleted", true);
    return c.json({ status: "deleted" as const }, 202);
  })
  .openapi(passwordRoute, async (c) => {
    const principal = principalOf(c);
    await limitByAccount(c, principal.user.id);
    return c.json(await changePassword(c.get("domain"), principal, c.req.valid("json")), 200);
  });
