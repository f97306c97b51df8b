/**
 * The session sockets: `/v1/sessions/{id}/shell`, `/exec` and `/ports/{port}`, WebSockets into the
 * user's running container, bridged to the host's (workers/api/session-sockets.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { EXEC_CHANNEL, EXEC_LIMITS, PORT_PATTERN } from "../../../contract/provisioner";
import { MAX_FORWARDED_PORTS, openSessionExec, openSessionPort, openSessionShell } from "../../domain/sessions";
import { newApp } from "../app";
import { principalOf, requireUserOrWebSocketToken } from "../middleware/auth";
import { errorResponses } from "../problem";
import { bearerAuth } from "../schemas";
import { bridgeSessionSocket, requireUpgrade, SESSION_SOCKET_CLOSE, SESSION_SOCKET_RULES } from "../session-sockets";

const idParam = z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } });
const socketErrors = ["validation_failed", "unauthorized", "not_found", "not_connected", "upgrade_required", "provisioner_unavailable", "not_configured"] as const;

const shellRoute = createRoute({
  tags: ["sessions"],
  security: bearerAuth,
  middleware: requireUserOrWebSocketToken,
  method: "get",
  path: "/{id}/shell",
  summary: "The session's shell: a WebSocket bridged to a terminal in its container",
  description: `Binary frames carry the terminal's bytes both ways; a text frame \`{"type":"resize","cols":N,"rows":N}\` resizes it. ${SESSION_SOCKET_RULES}`,
  request: { params: z.object({ id: idParam }) },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...errorResponses(...socketErrors, "session_busy"),
  },
});

const execRoute = createRoute({
  tags: ["sessions"],
  security: bearerAuth,
  middleware: requireUserOrWebSocketToken,
  method: "get",
  path: "/{id}/exec",
  summary: "Run one command in the session's container, without a terminal: a WebSocket",
  description: [
    "The command runs as the session's user in `/workspace`, with no terminal; no shell reads its arguments (run `sh -c '…'` for one). Frames:",
    "",
    `1. Client, first and once: a text frame \`{"type":"start","argv":["python","train.py","--epochs","3"]}\` — 1 to ${EXEC_LIMITS.args} arguments, the first not empty, none with NUL, each at most ${EXEC_LIMITS.argBytes} bytes and ${EXEC_LIMITS.totalBytes} bytes in all.`,
    `2. Client: binary frames whose first byte is ${EXEC_CHANNEL.stdin} (stdin), the rest bytes for the command's stdin; then a text frame \`{"type":"eof"}\` closes its stdin (send it at once when there is no input; a command reading stdin waits until then).`,
    `3. Server: binary frames whose first byte is ${EXEC_CHANNEL.stdout} (stdout) or ${EXEC_CHANNEL.stderr} (stderr), the rest that stream's bytes.`,
    '4. Server, last: a text frame `{"type":"exit","exitCode":N}` (128 + n after signal n), then the close, code 1000.',
    "",
    `Close codes: ${SESSION_SOCKET_CLOSE.protocolError} a frame that breaks these rules (the reason says which, never repeating the command); 1011 the host failed. Closing the socket before the exit ends the command (a hang-up: what it deliberately detached, nohup or setsid, lives on). The command line is never stored or logged.`,
    "",
    SESSION_SOCKET_RULES,
  ].join("\n"),
  request: { params: z.object({ id: idParam }) },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...errorResponses(...socketErrors),
  },
});

const portRoute = createRoute({
  tags: ["sessions"],
  security: bearerAuth,
  middleware: requireUserOrWebSocketToken,
  method: "get",
  path: "/{id}/ports/{port}",
  summary: "One TCP connection to a port of the session's container: a WebSocket",
  description: [
    "The host connects to the port on the container's own network (no port of the host is ever published) before the upgrade: nothing listening there is 409 `port_closed`. One WebSocket carries one TCP connection; open one per connection (a local forwarder opens one for each it accepts). Frames:",
    "",
    "- Binary frames, both ways: the connection's bytes.",
    '- Client: a text frame `{"type":"eof"}` half-closes it (the server reads EOF and may still answer).',
    `- The server closes with 1000 when the container's side closes (after every byte it sent), with ${SESSION_SOCKET_CLOSE.upstreamFailed} when it resets or fails, ${SESSION_SOCKET_CLOSE.protocolError} after a frame that breaks these rules. Closing the socket closes the connection.`,
    "",
    `The port joins the session's \`ports\` (a record of what the session forwarded, at most ${MAX_FORWARDED_PORTS} different ports; another is 409 \`too_many_ports\`). ${SESSION_SOCKET_RULES}`,
  ].join("\n"),
  request: {
    params: z.object({
      id: idParam,
      port: z
        .string()
        .regex(PORT_PATTERN, "must be a port number, 1-65535")
        .openapi({ param: { name: "port", in: "path" }, example: "8888", description: "A TCP port of the container, 1-65535" }),
    }),
  },
  responses: {
    101: { description: "Switched to the WebSocket protocol" },
    ...errorResponses(...socketErrors, "port_closed", "too_many_ports"),
  },
});

export const sessionSocketRoutes = newApp()
  .openapi(shellRoute, async (c) => {
    requireUpgrade(c);
    const host = await openSessionShell(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id);
    return bridgeSessionSocket(c, host) as never;
  })
  .openapi(execRoute, async (c) => {
    requireUpgrade(c);
    const host = await openSessionExec(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id);
    return bridgeSessionSocket(c, host) as never;
  })
  .openapi(portRoute, async (c) => {
    requireUpgrade(c);
    const { id, port } = c.req.valid("param");
    const host = await openSessionPort(c.get("domain"), principalOf(c).user.id, id, Number(port));
    return bridgeSessionSocket(c, host) as never;
  });
