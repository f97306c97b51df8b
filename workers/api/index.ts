import { cors } from "hono/cors";
import { AppError } from "../domain/errors";
import { POLICY_PATH } from "../domain/privacy";
import { newApp } from "./app";
import { renderDocs } from "./docs";
import { jsonBodyChecks } from "./middleware/body";
import { requestMiddleware } from "./middleware/request";
import { servicesMiddleware } from "./middleware/services";
import { onError, problemResponse } from "./problem";
import { accountRoutes } from "./routes/account";
import { adminRoutes } from "./routes/admin";
import { privacyRoutes } from "./routes/privacy";
import { authRoutes } from "./routes/auth";
import { billingRoutes } from "./routes/billing";
import { metaRoutes } from "./routes/meta";
import { imageRoutes } from "./routes/images";
import { planRoutes } from "./routes/plans";
import { privacyExportRoutes } from "./routes/privacy-export";
import { sessionRoutes } from "./routes/sessions";
import { sessionSocketRoutes } from "./routes/session-sockets";
import { sshKeyRoutes } from "./routes/ssh-keys";
import { usageRoutes } from "./routes/usage";
import { workspaceRoutes } from "./routes/workspace";
import type { HonoEnv } from "./types";

export const api = newApp();

api.use("*", requestMiddleware);
api.use(
  "/v1/*",
  servicesMiddleware,
  cors({
    origin: (origin, c) => (c.get("domain").config.corsOrigins.includes(origin) ? origin : null),
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowHeaders: ["Authorization", "Content-Type", "Range", "Want-Repr-Digest"],
    exposeHeaders: ["X-Request-Id", "Retry-After", "Content-Range", "Accept-Ranges", "Repr-Digest", "Ozekai-Sha256"],
    maxAge: 600,
    credentials: false,
  }),
);
api.use("/v1/*", jsonBodyChecks);
// The policy text reads the current version from D1.
api.use(POLICY_PATH, servicesMiddleware);

api.route("/", metaRoutes);
api.route("/v1/auth", authRoutes);
api.route("/v1/account", accountRoutes);
api.route("/v1/account/ssh-keys", sshKeyRoutes);
api.route("/v1/sessions", sessionRoutes);
api.route("/v1/sessions", sessionSocketRoutes);
api.route("/v1/workspace", workspaceRoutes);
api.route("/v1/plans", planRoutes);
api.route("/v1/images", imageRoutes);
api.route("/v1/billing", billingRoutes);
api.route("/v1/usage", usageRoutes);
api.route("/v1/privacy", privacyExportRoutes);
api.route("/v1/admin", adminRoutes);
api.route("/v1/privacy", privacyRoutes);

api.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
/** The OpenAPI document's header: served at /openapi.json and read by client/ to generate its types. */
export const documentConfig = {
  openapi: "3.1.0",
  info: {
    title: "Ozekai",
    version: "1",
    description: "Isolated GPU containers with a persistent workspace. Sign in at /v1/auth/login and send `Authorization: Bearer <accessToken>`.",
  },
};
api.doc31("/openapi.json", documentConfig);

api.get("/docs", async (c) => {
  const { html, csp } = await renderDocs(api.getOpenAPI31Document(documentConfig) as unknown as Parameters<typeof renderDocs>[0]);
  return c.html(html, 200, { "Content-Security-Policy": csp });
});

// 405 (with Allow) when the path exists under another method, else 404.
let routeTable: { pattern: RegExp; method: string }[] | undefined;
api.notFound((c) => {
  routeTable ??= api.routes
    .filter((r) => r.method !== "ALL")
    .map((r) => ({ method: r.method, pattern: new RegExp(`^${r.path.replace(/\/$/, "").replace(/:[^/]+/g, "[^/]+")}/?$`) }));
  const path = new URL(c.req.url).pathname;
  const allowed = [...new Set(routeTable.filter((r) => r.pattern.test(path)).map((r) => r.method))];
  if (allowed.length > 0) {
    return problemResponse(c, new AppError("method_not_allowed", `Use ${allowed.join(", ")} on this path.`, { headers: { Allow: allowed.join(", ") } }));
  }
  return problemResponse(c, new AppError("not_found", "No such resource."));
});
api.onError(onError);

export type Api = typeof api;
export type { HonoEnv };
