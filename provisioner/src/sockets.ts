/**
 * The session sockets: WebSockets into a running session container, each checked like every other
 * request (its token, before the upgrade) and then bridged by its own module:
 * - `GET /v1/containers/:sessionId/shell`: a terminal (shell.ts);
 * - `GET /v1/containers/:sessionId/exec`: one command without a terminal (exec.ts);
 * - `GET /v1/containers/:sessionId/ports/:port`: one TCP connection to a port of the container (forward.ts).
 */
import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type WebSocket, WebSocketServer } from "ws";
import { PortSchema } from "../../contract/provisioner.ts";
import { verifyProvisionerRequest } from "./auth.ts";
import { findSessionContainer, type SessionContainer } from "./containers/sessions.ts";
import { isDockerUnreachable, ProvisionerError } from "./errors.ts";
import { bridgeExec } from "./exec.ts";
import { bridgeForward, connectToContainerPort } from "./forward.ts";
import { logUnexpected, problemBody } from "./http/problem.ts";
import { signedPath, signedTarget } from "./http/router.ts";
import type { Services } from "./services.ts";
import { bridgeShell } from "./shell.ts";

const SOCKET_PATH = /^\/v1\/containers\/([A-Za-z0-9_-]{1,64})\/(shell|exec|ports\/([^/]*))$/;

/** Answers an upgrade request with a problem instead of a WebSocket. */
function refuse(socket: Duplex, error: ProvisionerError, requestId: string): void {
  const body = JSON.stringify(problemBody(error, requestId));
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** What one upgrade asks for, once its container is known to run. */
type Bridge = (ws: WebSocket) => Promise<void> | void;

async function prepare(services: Services, kind: string, portParam: string | undefined, container: SessionContainer): Promise<{ bridge: Bridge; abandon?: () => void }> {
  const { containerId, sessionId } = container;
  if (kind === "shell") return { bridge: (ws) => bridgeShell(services, ws, containerId, sessionId) };
  if (kind === "exec") return { bridge: (ws) => bridgeExec(services, ws, containerId, sessionId) };
  const port = PortSchema.safeParse(portParam);
  if (!port.success) throw new ProvisionerError("validation_failed", "the port must be 1-65535");
  // Connected before the upgrade: a port nothing listens on is a problem the Worker can pass on.
  const tcp = await connectToContainerPort(services, container, port.data);
  return { bridge: (ws) => bridgeForward(services, ws, tcp, sessionId), abandon: () => tcp.destroy() };
}

export function attachSessionSockets(server: Server, services: Services): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = crypto.randomUUID();
    socket.on("error", () => socket.destroy());
    void (async () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1").href;
      // An upgrade carries no body to bind.
      await verifyProvisionerRequest(services.tokens, request.headers.authorization, { method: request.method ?? "GET", target: signedTarget(url), body: async () => undefined });
      const match = SOCKET_PATH.exec(signedPath(url));
      if (!match?.[1] || !match[2]) throw new ProvisionerError("not_found");
      const container = await findSessionContainer(services.docker, match[1]);
      if (!container) throw new ProvisionerError("container_not_found");
      if (container.state !== "running") throw new ProvisionerError("container_not_running");
      const { bridge, abandon } = await prepare(services, match[2].split("/")[0]!, match[3], container);
      // A client gone before the upgrade completes never gets its bridge: what was prepared is dropped.
      const dropped = () => abandon?.();
      (socket as Socket).once("close", dropped);
      wss.handleUpgrade(request, socket, head, (ws) => {
        (socket as Socket).off("close", dropped);
        Promise.resolve(bridge(ws)).catch((error: unknown) => {
          abandon?.();
          logUnexpected(requestId, error);
          ws.close(1011, "the bridge failed");
        });
      });
    })().catch((error: unknown) => {
      if (error instanceof ProvisionerError) return refuse(socket, error, requestId);
      if (isDockerUnreachable(error)) return refuse(socket, new ProvisionerError("docker_unavailable"), requestId);
      logUnexpected(requestId, error);
      refuse(socket, new ProvisionerError("internal"), requestId);
    });
  });
  return wss;
}
