import { createRoute } from "@hono/zod-openapi";
import { destroyWorkspace, getWorkspace } from "../../domain/workspaces";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth, jsonResponse, WorkspaceSchema } from "../schemas";

const protectedRoute = { tags: ["workspace"], security: bearerAuth, middleware: requireUser };

const getRoute = createRoute({
  ...protectedRoute,
  method: "get",
  path: "/",
  summary: "Your workspace: state, size and the live session using it",
  responses: { 200: jsonResponse(WorkspaceSchema, "The workspace"), ...errorResponses("unauthorized", "not_found", "not_configured") },
});

const destroyRoute = createRoute({
  ...protectedRoute,
  method: "delete",
  path: "/",
  summary: "Destroy: end the session, remove its container and delete the workspace and its files",
  responses: {
    200: jsonResponse(WorkspaceSchema, "Deleted"),
    ...errorResponses("unauthorized", "not_found", "session_busy", "workspace_busy", "provisioner_unavailable", "not_configured"),
  },
});

export const workspaceRoutes = newApp()
  .openapi(getRoute, async (c) => c.json(await getWorkspace(c.get("domain"), principalOf(c).user.id), 200))
  .openapi(destroyRoute, async (c) => c.json(await destroyWorkspace(c.get("domain"), principalOf(c).user.id), 200));
