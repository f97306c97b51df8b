/**
 * The exec socket: one command run without a terminal in the session container, as the session's
 * user, its stdout and stderr kept apart, its stdin carried to an EOF, its exit status sent last
 * (the frames: contract/provisioner.ts, docs/decisions/0022-exec-transport.md). The command line
 * is the tenant's: it is never logged, and no close reason repeats it.
 */
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { EofSchema, EXEC_CHANNEL, ExecStartSchema, SOCKET_CLOSE } from "../../contract/provisioner.ts";
import { attachMarker, hangUp } from "./containers/hang-up.ts";
import { WORKSPACE_MOUNT, WORKSPACE_USER } from "./containers/spec.ts";
import type { Services } from "./services.ts";
import { closeClient, controlFrame, frameBytes, frameQueue, sendPaced, writePaced } from "./socket-io.ts";

/** How long a client has to send its start frame once the socket is open. */
const START_TIMEOUT_MS = 10_000;
/** How long Docker may take to report the exit status of an exec whose output has ended. */
const EXIT_STATUS_WAIT_MS = 5_000;

/**
 * Docker's multiplexed output (8-byte headers: stream type, three zero bytes, big-endian length):
 * each payload to stdout (type 1) or stderr (2, and 3, Docker's own message when the command
 * cannot start). Anything that is not such a header is passed on whole as stderr.
 */
function demultiplexer(emit: (channel: number, payload: Buffer) => void) {
  let pending: Buffer = Buffer.alloc(0);
  let raw = false;
  return {
    push(chunk: Buffer) {
      if (raw) return emit(EXEC_CHANNEL.stderr, chunk);
      pending = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const type = pending[0]!;
        if (type < 1 || type > 3 || pending[1] || pending[2] || pending[3]) {
          raw = true;
          emit(EXEC_CHANNEL.stderr, pending);
          pending = Buffer.alloc(0);
          return;
        }
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) return;
        if (size > 0) emit(type === 1 ? EXEC_CHANNEL.stdout : EXEC_CHANNEL.stderr, pending.subarray(8, 8 + size));
        pending = pending.subarray(8 + size);
      }
    },
    flush() {
      if (pending.length > 0) emit(EXEC_CHANNEL.stderr, pending);
      pending = Buffer.alloc(0);
    },
  };
}

/** The command of a start frame, or undefined after closing the socket for a bad or missing one. */
function readStart(ws: WebSocket, frame: [RawData, boolean] | undefined): string[] | undefined {
  if (ws.readyState !== ws.OPEN) return undefined;
  if (!frame) {
    ws.close(SOCKET_CLOSE.protocolError, "no start frame");
    return undefined;
  }
  const [data, isBinary] = frame;
  const start = isBinary ? undefined : ExecStartSchema.safeParse(controlFrame(frameBytes(data)));
  if (start?.success) return start.data.argv;
  // The reason names the rule broken, never the argument that broke it.
  const issue = start?.error.issues[0];
  ws.close(SOCKET_CLOSE.protocolError, issue ? `start frame: ${issue.path.join(".")} ${issue.message}`.slice(0, 120) : 'the first frame must be {"type":"start","argv":[...]}');
  return undefined;
}

export async function bridgeExec(services: Services, ws: WebSocket, containerId: string, sessionId: string): Promise<void> {
  // Stdin can follow the start frame before the exec is set up: held until it is.
  const frames = frameQueue(ws);
  let closed = false;
  ws.once("close", () => {
    closed = true;
  });
  const argv = readStart(ws, await frames.first(START_TIMEOUT_MS));
  if (!argv) return;

  const marker = attachMarker(crypto.randomUUID());
  const exec = await services.docker.getContainer(containerId).exec({
    Cmd: argv, // as given: no shell reads it
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Privileged: false,
    User: WORKSPACE_USER, // as the session's own processes and its shell
    Env: [marker],
    WorkingDir: WORKSPACE_MOUNT,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
  services.shells.attach(sessionId);

  let exited = false;
  let detached = false;
  const close = () => {
    if (detached) return;
    detached = true;
    services.shells.detach(sessionId);
    stream.destroy();
    // A command still running when its bridge closes ends with it, as on a hang-up; one that
    // exited leaves what it deliberately started in the background.
    if (!exited) hangUp(services, containerId, marker, sessionId);
    closeClient(ws, 1011, "the command's output ended without an exit status");
  };

  const output = demultiplexer((channel, payload) => {
    services.shells.touch(sessionId);
    sendPaced(ws, stream, Buffer.concat([Buffer.of(channel), payload]));
  });
  stream.on("data", (chunk: Buffer) => output.push(chunk));
  let ended = false;
  stream.once("end", () => {
    ended = true;
    output.flush();
    void exitStatus(exec).then(
      (exitCode) => {
        if (exitCode !== null && ws.readyState === ws.OPEN) {
          exited = true;
          ws.send(JSON.stringify({ type: "exit", exitCode }));
          closeClient(ws, 1000, "exited");
        }
        close();
      },
      () => close(),
    );
  });
  stream.on("error", close);
  // Docker's connection gone without an end: no exit status will come.
  stream.once("close", () => {
    if (!ended) close();
  });

  let stdinOpen = true;
  const onMessage = (data: RawData, isBinary: boolean) => {
    const bytes = frameBytes(data);
    if (!isBinary) {
      if (!EofSchema.safeParse(controlFrame(bytes)).success) return closeClient(ws, SOCKET_CLOSE.protocolError, "unknown control frame");
      if (stdinOpen) stream.end(); // half-closes Docker's stream: the command reads EOF
      stdinOpen = false;
      return;
    }
    if (bytes[0] !== EXEC_CHANNEL.stdin) return closeClient(ws, SOCKET_CLOSE.protocolError, "a client frame's first byte must be 0 (stdin)");
    if (!stdinOpen) return closeClient(ws, SOCKET_CLOSE.protocolError, "stdin after eof");
    services.shells.touch(sessionId);
    if (bytes.length > 1) writePaced(ws, stream, bytes.subarray(1));
  };
  ws.on("close", close);
  ws.on("error", close);
  if (closed) return close();
  frames.deliverTo(onMessage);
}

/** The exec's exit status once Docker has it (128 + n after signal n), or null if it never says. */
export async function exitStatus(exec: { inspect(): Promise<{ Running: boolean; ExitCode: number | null }> }): Promise<number | null> {
  const deadline = Date.now() + EXIT_STATUS_WAIT_MS;
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
