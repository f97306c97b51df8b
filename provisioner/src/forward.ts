/**
 * The port socket: one TCP connection from the client to a port of the session container, made by
 * the provisioner to the container's address on its tenant network. No host port is ever
 * published (policy §5: no exposed inbound ports); the network guard's INPUT rule lets the
 * container's replies back, as it does for every connection the host itself opens.
 * Binary frames carry the stream's bytes both ways; `{"type":"eof"}` from the client half-closes
 * it; the socket closes (1000) when the container's side closes, 4502 when it fails.
 */
import { connect, type Socket } from "node:net";
import type Docker from "dockerode";
import type { RawData, WebSocket } from "ws";
import { EofSchema, SOCKET_CLOSE } from "../../contract/provisioner.ts";
import type { SessionContainer } from "./containers/sessions.ts";
import { tenantNetworkName } from "./containers/spec.ts";
import { dockerStatus, ProvisionerError } from "./errors.ts";
import type { Services } from "./services.ts";
import { closeClient, controlFrame, frameBytes, sendPaced, writePaced } from "./socket-io.ts";

/** How long a connection to the container may take: on its own bridge, a refusal is instant. */
const CONNECT_TIMEOUT_MS = 5_000;
/** How long a half-closed connection may wait for the container's side once the client is gone. */
const LINGER_MS = 1_000;

/** The container's address on its tenant's network: the only one a forward may reach. */
async function tenantAddress(services: Services, container: SessionContainer): Promise<string> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await services.docker.getContainer(container.containerId).inspect();
  } catch (error) {
    if (dockerStatus(error) === 404) throw new ProvisionerError("container_not_found");
    throw error;
  }
  const address = info.NetworkSettings.Networks[tenantNetworkName(container.tenantId)]?.IPAddress;
  if (!info.State.Running || !address) throw new ProvisionerError("container_not_running", "the container has no address on its network");
  return address;
}

/** A connection to `port` of the session container; `port_closed` when nothing accepts it there. */
export async function connectToContainerPort(services: Services, container: SessionContainer, port: number): Promise<Socket> {
  const host = await tenantAddress(services, container);
  return new Promise((resolve, reject) => {
    // Half-open allowed: the client's EOF ends our side only; the container may still answer.
    const socket = connect({ host, port, allowHalfOpen: true, noDelay: true });
    const fail = (detail: string) => {
      socket.destroy();
      reject(new ProvisionerError("port_closed", detail));
    };
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => fail(`nothing answered on port ${port} within ${CONNECT_TIMEOUT_MS / 1000} s`));
    socket.once("error", (error: NodeJS.ErrnoException) => fail(error.code === "ECONNREFUSED" ? `nothing listens on port ${port}` : `port ${port} is unreachable`));
    socket.once("connect", () => {
      socket.setTimeout(0);
      socket.removeAllListeners("error");
      resolve(socket);
    });
  });
}

export function bridgeForward(services: Services, ws: WebSocket, tcp: Socket, sessionId: string): void {
  services.shells.attach(sessionId);
  let done = false;
  const finish = (code: number, reason: string) => {
    if (done) return;
    done = true;
    services.shells.detach(sessionId);
    // FIN first, so what the container was sent is delivered; then let go.
    tcp.end();
    setTimeout(() => tcp.destroy(), LINGER_MS).unref();
    closeClient(ws, code, reason);
  };

  tcp.on("data", (chunk: Buffer) => {
    services.shells.touch(sessionId);
    sendPaced(ws, tcp, chunk);
  });
  tcp.once("end", () => finish(1000, "the container closed the connection"));
  tcp.once("error", (error: NodeJS.ErrnoException) => finish(SOCKET_CLOSE.upstreamFailed, error.code === "ECONNRESET" ? "the container reset the connection" : "the connection failed"));
  tcp.once("close", () => finish(1000, "the container closed the connection"));

  let clientEnded = false;
  ws.on("message", (data: RawData, isBinary: boolean) => {
    const bytes = frameBytes(data);
    if (!isBinary) {
      if (!EofSchema.safeParse(controlFrame(bytes)).success) return closeClient(ws, SOCKET_CLOSE.protocolError, "unknown control frame");
      clientEnded = true;
      tcp.end(); // half-close: the container reads EOF and may still answer
      return;
    }
    if (clientEnded) return closeClient(ws, SOCKET_CLOSE.protocolError, "data after eof");
    services.shells.touch(sessionId);
    writePaced(ws, tcp, bytes);
  });
  ws.on("close", () => finish(1000, "closed"));
  ws.on("error", () => finish(1011, "failed"));
}
