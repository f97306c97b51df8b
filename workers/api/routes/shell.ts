import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../domain/errors";
import { openSessionShell } from "../../domain/sessions";
import { newApp } from "../app";
import { principalOf, requireUserOrWebSocketToken, WEBSOCKET_TOKEN_PREFIX } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth } from "../schemas";

/** The subprotocol a browser offers (with `bearer.<token>`) and the Worker selects. */
export const SHELL_SUBPROTOCOL = "ozekai.v1";

const shellRoute = createRoute({
  tags: ["sessions"],
  security: bearerAuth,
  middleware: requireUserOrWebSocketToken,
  method: "get",
  path: "/{id}/shell",
  summary: "The session's shell: a WebSocket bridged to a terminal in its container",
  description:
    `Binary frames carry the terminal's bytes both ways; a text frame \`{"type":"resize","cols":N,"rows":N}\` resizes it. ` +
    `Send the access token as \`Authorization: Bearer\`, or from a browser as the subprotocols \`["${SHELL_SUBPROTOCOL}", "${WEBSOCKET_TOKEN_PREFIX}<token>"]\` (never in the URL).`,
  request: { params: z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } }) }) },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...errorResponses("validation_failed", "unauthorized", "not_found", "not_connected", "session_busy", "upgrade_required", "provisioner_unavailable", "not_configured"),
  },
});

/** Close codes a peer may send (1005, 1006 and 1015 only describe a close, and cannot be sent). */
const sendableCode = (code: number) => (code === 1000 || (code >= 3000 && code <= 4999) || (code >= 1001 && code <= 1014 && ![1004, 1005, 1006].includes(code)) ? code : 1000);

/** Messages both ways as they are (binary stays binary, text stays text); a close or error on one side closes the other. */
function bridge(client: WebSocket, host: WebSocket): void {
  const closeOther = (other: WebSocket) => (event: CloseEvent) => {
    try {
      other.close(sendableCode(event.code), event.reason.slice(0, 120));
    } catch {
      // already closed
    }
  };
  const failOther = (other: WebSocket) => () => {
    try {
      other.close(1011, "the other side failed");
    } catch {
      // already closed
    }
  };
  // Binary frames as ArrayBuffers (the standard default is Blob), passed on as binary frames.
  client.binaryType = "arraybuffer";
  host.binaryType = "arraybuffer";
  client.addEventListener("message", (event) => host.send(event.data));
  host.addEventListener("message", (event) => client.send(event.data));
  client.addEventListener("close", closeOther(host));
  host.addEventListener("close", closeOther(client));
  client.addEventListener("error", failOther(host));
  host.addEventListener("error", failOther(client));
}

export const shellRoutes = newApp().openapi(shellRoute, async (c) => {
  const { id } = c.req.valid("param");
  const userId = principalOf(c).user.id;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new AppError("upgrade_required", "Open this URL as a WebSocket.", { headers: { Upgrade: "websocket" } });
  }
  const host = await openSessionShell(c.get("domain"), userId, id);
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  host.accept();
  bridge(server, host);
  const offered = (c.req.header("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim());
  const headers: Record<string, string> = offered.includes(SHELL_SUBPROTOCOL) ? { "Sec-WebSocket-Protocol": SHELL_SUBPROTOCOL } : {};
  return new Response(null, { status: 101, webSocket: client, headers }) as never;
});
