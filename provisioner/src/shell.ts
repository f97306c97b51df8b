import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { verifyProvisionerRequest } from "./auth.ts";
import { findSessionContainer } from "./containers/sessions.ts";
import { WORKSPACE_MOUNT, WORKSPACE_USER } from "./containers/spec.ts";
import { isDockerUnreachable, ProvisionerError } from "./errors.ts";
import { logUnexpected, problemBody } from "./http/problem.ts";
import { signedPath, signedTarget } from "./http/router.ts";
import { ShellResizeSchema } from "../../contract/provisioner.ts";
import type { Services } from "./services.ts";

const SHELL_PATH = /^\/v1\/containers\/([A-Za-z0-9_-]{1,64})\/shell$/;
/** Output queued for a slow client before the shell is paused. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** Answers an upgrade request with a problem instead of a WebSocket. */
function refuse(socket: Duplex, error: ProvisionerError, requestId: string): void {
  const body = JSON.stringify(problemBody(error, requestId));
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * `GET /v1/containers/:sessionId/shell` as a WebSocket bridged to `docker exec sh` with a TTY.
 * The token is checked before the upgrade, like every other request. Binary frames carry the
 * terminal's bytes both ways; a text frame `{"type":"resize","cols":N,"rows":N}` resizes it.
 */
export function attachShell(server: Server, services: Services): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });

  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const requestId = crypto.randomUUID();
    socket.on("error", () => socket.destroy());
    void (async () => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1").href;
      const path = signedPath(url);
      // An upgrade carries no body to bind.
      await verifyProvisionerRequest(services.tokens, request.headers.authorization, { method: request.method ?? "GET", target: signedTarget(url), body: async () => undefined });
      const match = SHELL_PATH.exec(path);
      if (!match?.[1]) throw new ProvisionerError("not_found");
      const sessionId = match[1];
      const container = await findSessionContainer(services.docker, sessionId);
      if (!container) throw new ProvisionerError("container_not_found");
      if (container.state !== "running") throw new ProvisionerError("container_not_running");
      wss.handleUpgrade(request, socket, head, (ws) => {
        bridge(services, ws, container.containerId, sessionId).catch((error: unknown) => {
          logUnexpected(requestId, error);
          ws.close(1011, "shell failed");
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

/**
 * Hangs up one shell as a terminal hang-up would: SIGHUP to every process in the shell's session
 * (a TTY exec is a session leader), then SIGKILL to the shell if it is still there, so the exec
 * ends. Closing the TTY does not do this in Docker (the shim keeps the terminal open), so a
 * foreground job kept running after the bridge closed. What a user deliberately detached (nohup,
 * setsid, a tmux server) survives, as on any host. The shell is found by a random marker in its
 * environment; pid 1's session is never a target. Runs as the shell's user, so it can signal
 * nothing the shell could not.
 */
const HANG_UP_SCRIPT = `
marker="OZEKAI_SHELL=$1"; leaders=""
read -r line < /proc/1/stat; set -- \${line##*) }; init=$4
for d in /proc/[0-9]*; do
  tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -qxF "$marker" || continue
  read -r line < "$d/stat" 2>/dev/null || continue
  set -- \${line##*) }
  [ "$4" = "\${d#/proc/}" ] && [ "$4" != "$init" ] && leaders="$leaders $4"
done
[ -n "$leaders" ] || exit 0
for d in /proc/[0-9]*; do
  read -r line < "$d/stat" 2>/dev/null || continue
  set -- \${line##*) }
  case " $leaders " in *" $4 "*) kill -HUP "\${d#/proc/}" 2>/dev/null;; esac
done
sleep 1
kill -KILL $leaders 2>/dev/null
true`;

async function hangUpShell(services: Services, containerId: string, marker: string): Promise<void> {
  const exec = await services.docker.getContainer(containerId).exec({
    Cmd: ["sh", "-c", HANG_UP_SCRIPT, "hang-up", marker],
    User: WORKSPACE_USER,
    AttachStdout: false,
    AttachStderr: false,
  });
  await exec.start({ Detach: true });
}

async function bridge(services: Services, ws: WebSocket, containerId: string, sessionId: string): Promise<void> {
  // Frames can arrive while the exec is being set up: hold them until the shell is there.
  const early: [RawData, boolean][] = [];
  const hold = (data: RawData, isBinary: boolean) => early.push([data, isBinary]);
  ws.on("message", hold);
  let closed = false;
  ws.once("close", () => {
    closed = true;
  });

  const marker = crypto.randomUUID();
  const exec = await services.docker.getContainer(containerId).exec({
    Cmd: ["sh"],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Privileged: false,
    User: WORKSPACE_USER, // as the session's own processes, whatever the image says
    Env: ["TERM=xterm-256color", `OZEKAI_SHELL=${marker}`],
    WorkingDir: WORKSPACE_MOUNT,
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
  services.shells.attach(sessionId);
  let detached = false;
  const close = () => {
    if (detached) return;
    detached = true;
    services.shells.detach(sessionId);
    stream.end(); // EOF on the TTY: the shell exits
    stream.destroy();
    // The shell and its terminal's jobs end with the bridge; a container already gone has nothing left to end.
    hangUpShell(services, containerId, marker).catch((error: unknown) => {
      const { statusCode, message } = error as { statusCode?: number; message?: string };
      const gone = statusCode === 404 || statusCode === 409 || /not running|stopped state/.test(message ?? "");
      if (!gone && !isDockerUnreachable(error)) logUnexpected(sessionId, error);
    });
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000, "shell exited");
  };

  stream.on("data", (chunk: Buffer) => {
    services.shells.touch(sessionId);
    ws.send(chunk, { binary: true }, () => {
      if (stream.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) stream.resume();
    });
    if (ws.bufferedAmount >= HIGH_WATER_BYTES) stream.pause();
  });
  stream.on("end", close);
  stream.on("close", close);
  stream.on("error", close);

  const onMessage = (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      services.shells.touch(sessionId);
      if (!stream.write(bytes)) {
        ws.pause();
        stream.once("drain", () => ws.resume());
      }
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString("utf8"));
    } catch {
      return ws.close(1003, "text frames must be JSON control messages");
    }
    const resize = ShellResizeSchema.safeParse(message);
    if (!resize.success) return ws.close(1003, "unknown control message");
    exec.resize({ h: resize.data.rows, w: resize.data.cols }).catch(() => undefined);
  };
  ws.off("message", hold);
  ws.on("message", onMessage);
  ws.on("close", close);
  ws.on("error", close);
  if (closed) return close();
  for (const [data, isBinary] of early.splice(0)) onMessage(data, isBinary);
}
