import { createRoute, z } from "@hono/zod-openapi";
import { confirmPasswordReset, emailField, login, logout, normalizeEmail, normalizeUsername, refresh, requestPasswordReset, revertEmailChange, signup, usernameField, verifyEmail } from "../../domain/accounts";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitByAccount, limitByIp } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { AcceptedSchema, bearerAuth, jsonBody, jsonResponse, passwordField, TokenPairSchema } from "../schemas";

// Signup, login and reset answer the same whatever exists (no account enumeration).
const SIGNUP_ACCEPTED = { status: "accepted", message: "Check your email to continue." } as const;
const RESET_ACCEPTED = { status: "accepted", message: "If the address has an account, a reset link is on its way." } as const;

const signupRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/signup",
  tags: ["auth"],
  summary: "Create an account (18+ only, policy §10); the result is told by email",
  request: {
    body: jsonBody(
      z.strictObject({
        username: usernameField,
        email: emailField,
        password: passwordField,
        policyVersion: z.string().max(32).openapi({ description: "Version of the privacy policy accepted (GET /v1/policy)" }),
        ageConfirmed: z.literal(true, "You must confirm you are 18 or older."),
      }),
    ),
  },
  responses: { 202: jsonResponse(AcceptedSchema, "Accepted; the outcome arrives by email"), ...errorResponses("validation_failed", "malformed_json") },
});

const verifyRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/verify-email",
  tags: ["auth"],
  summary: "Confirm an email address (signup or change) with the emailed token",
  request: { body: jsonBody(z.strictObject({ token: z.string().min(1).max(256) })) },
  responses: { 200: jsonResponse(z.object({ emailVerified: z.literal(true) }), "Verified"), ...errorResponses("validation_failed", "token_invalid", "email_taken") },
});

const revertRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/revert-email",
  tags: ["auth"],
  summary: "Undo an email change with the token emailed to the old address: it is the account's address again, every sign-in ends and a reset link is sent there",
  request: { body: jsonBody(z.strictObject({ token: z.string().min(1).max(256) })) },
  responses: { 200: jsonResponse(z.object({ status: z.literal("reverted") }), "The old address is restored"), ...errorResponses("validation_failed", "token_invalid", "email_taken") },
});

const loginRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/login",
  tags: ["auth"],
  summary: "Sign in with username or email address",
  request: { body: jsonBody(z.strictObject({ login: z.string().min(1).max(254), password: passwordField })) },
  responses: { 200: jsonResponse(TokenPairSchema, "Signed in"), ...errorResponses("validation_failed", "invalid_credentials") },
});

const refreshRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/refresh",
  tags: ["auth"],
  summary: "Exchange a refresh token for a new pair (rotation; reuse revokes the sign-in)",
  request: { body: jsonBody(z.strictObject({ refreshToken: z.string().min(1).max(256) })) },
  responses: { 200: jsonResponse(TokenPairSchema, "New tokens"), ...errorResponses("validation_failed", "unauthorized") },
});

const logoutRoute = createRoute({
  method: "post",
  path: "/logout",
  tags: ["auth"],
  summary: "End this sign-in: its access and refresh tokens stop working",
  security: bearerAuth,
  middleware: requireUser,
  responses: { 204: { description: "Signed out" }, ...errorResponses("unauthorized") },
});

const resetRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/password-reset",
  tags: ["auth"],
  summary: "Email a password reset link (same answer whether or not the address has an account)",
  request: { body: jsonBody(z.strictObject({ email: emailField })) },
  responses: { 202: jsonResponse(AcceptedSchema, "Accepted"), ...errorResponses("validation_failed") },
});

const resetConfirmRoute = createRoute({
  middleware: limitByIp,
  method: "post",
  path: "/password-reset/confirm",
  tags: ["auth"],
  summary: "Set a new password with the emailed token; ends every sign-in",
  request: { body: jsonBody(z.strictObject({ token: z.string().min(1).max(256), password: passwordField })) },
  responses: { 204: { description: "Password changed" }, ...errorResponses("validation_failed", "token_invalid") },
});

/** Username or address as stored, so `Alice` and `alice` are one account. */
const loginKey = (value: string) => (value.includes("@") ? normalizeEmail(value) : normalizeUsername(value));

export const authRoutes = newApp()
  .openapi(signupRoute, async (c) => {
    const body = c.req.valid("json");
    await limitByAccount(c, body.email);
    await signup(c.get("domain"), body);
    return c.json(SIGNUP_ACCEPTED, 202);
  })
  .openapi(verifyRoute, async (c) => {
    await verifyEmail(c.get("domain"), c.req.valid("json").token);
    return c.json({ emailVerified: true as const }, 200);
  })
  .openapi(revertRoute, async (c) => {
    await revertEmailChange(c.get("domain"), c.req.valid("json").token);
    return c.json({ status: "reverted" as const }, 200);
  })
  .openapi(loginRoute, async (c) => {
    const body = c.req.valid("json");
    // The per-account limit is keyed by the account's id once found, so its username and its
    // address share one bucket; unknown names are limited by the name tried.
    const limitAccount = (key: string) => limitByAccount(c, key);
    return c.json(await login(c.get("domain"), { login: loginKey(body.login), password: body.password }, limitAccount), 200);
  })
  .openapi(refreshRoute, async (c) => {
    return c.json(await refresh(c.get("domain"), c.req.valid("json").refreshToken), 200);
  })
  .openapi(logoutRoute, async (c) => {
    await logout(c.get("domain"), principalOf(c));
    return c.body(null, 204);
  })
  .openapi(resetRoute, async (c) => {
    const { email } = c.req.valid("json");
    await limitByAccount(c, email);
    await requestPasswordReset(c.get("domain"), email);
    return c.json(RESET_ACCEPTED, 202);
  })
  .openapi(resetConfirmRoute, async (c) => {
    await confirmPasswordReset(c.get("domain"), c.req.valid("json"));
    return c.body(null, 204);
  });
