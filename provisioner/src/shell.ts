import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { ShellResizeSchema } from "../../contract/provisioner.ts";
import { attachMarker, hangUp } from "./containers/hang-up.ts";
import { WORKSPACE_MOUNT, WORKSPACE_USER } from "./containers/spec.ts";
import type { Services } from "./services.ts";
import { closeClient, controlFrame, frameBytes, frameQueue, sendPaced, writePaced } from "./socket-io.ts";

/**
 * The shell socket, bridged to `docker exec sh` with a TTY. Binary frames carry the terminal's
 * bytes both ways; a text frame `{"type":"resize","cols":N,"rows":N}` resizes it. When the bridge
 * closes, the shell is hung up (containers/hang-up.ts).
 */
export async function bridgeShell(services: Services, ws: WebSocket, containerId: string, sessionId: string): Promise<void> {
  // Frames can arrive while the exec is being set up: held until the shell is there.
  const frames = frameQueue(ws);
  let closed = false;
  ws.once("close", () => {
    closed = true;
  });

  const marker = attachMarker(crypto.randomUUID());
  const exec = await services.docker.getContainer(containerId).exec({
    Cmd: ["sh"],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: true,
    Privileged: false,
    User: WORKSPACE_USER, // as the session's own processes, whatever the image says
    Env: ["TERM=xterm-256color", marker],
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
    // The shell and its terminal's jobs end with the bridge.
    hangUp(services, containerId, marker, sessionId);
    closeClient(ws, 1000, "shell exited");
  };

  stream.on("data", (chunk: Buffer) => {
    services.shells.touch(sessionId);
    sendPaced(ws, stream, chunk);
  });
  stream.on("end", close);
  stream.on("close", close);
  stream.on("error", close);

  const onMessage = (data: RawData, isBinary: boolean) => {
    const bytes = frameBytes(data);
    if (isBinary) {
      services.shells.touch(sessionId);
      return writePaced(ws, stream, bytes);
    }
    const message = controlFrame(bytes);
    if (message === undefined) return closeClient(ws, 1003, "text frames must be JSON control messages");
    const resize = ShellResizeSchema.safeParse(message);
    if (!resize.success) return closeClient(ws, 1003, "unknown control message");
    exec.resize({ h: resize.data.rows, w: resize.data.cols }).catch(() => undefined);
  };
  ws.on("close", close);
  ws.on("error", close);
  if (closed) return close();
  frames.deliverTo(onMessage);
}
