/**
 * forward: 127.0.0.1:LOCAL carried to a port of the session's container, one WebSocket to
 * `/v1/sessions/{id}/ports/{port}` per TCP connection accepted (docs/decisions/0023-port-forwarding.md).
 */
import { createServer, type Server, type Socket } from "node:net";
import type WebSocket from "ws";
import { CliError, EXIT, toCliError } from "../errors.ts";
import { Output } from "../output.ts";
import type { Program } from "../run.ts";
import { closeMessage, keepAlive, openSessionSocket, resolveSessionId, SOCKET_CLOSE } from "../session-sockets.ts";
import { type GlobalOptions, openSession, type Session, unwrap } from "../session.ts";

const PORT = /^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/;

/** `8888` or `8888:8889` as the local and the container's port; a usage error otherwise. */
export function parseForward(spec: string): { local: number; remote: number } {
  const [local = "", remote = local, extra] = spec.split(":");
  if (extra !== undefined || !PORT.test(local) || !PORT.test(remote)) {
    throw new CliError("usage", `${JSON.stringify(spec)} is not LOCAL[:REMOTE] with ports 1-65535 (e.g. 8888 or 8080:8888).`);
  }
  return { local: Number(local), remote: Number(remote) };
}

/** Bytes held for the socket beyond this pause the local connection. */
const SEND_HIGH_WATER = 1024 * 1024;

/** One accepted connection, bridged to its own WebSocket. */
async function carry(session: Session, sessionId: string, remote: number, tcp: Socket, out: Output, onSignInEnded: () => void) {
  tcp.pause();
  let ws: WebSocket;
  try {
    ws = await openSessionSocket(session, sessionId, `ports/${remote}`);
  } catch (error) {
    const failure = toCliError(error, session.apiUrl);
    out.note(`ozekai: a connection to port ${remote} was refused: ${failure.message}`);
    tcp.destroy();
    if (failure.kind === "not_signed_in") onSignInEnded();
    return;
  }
  keepAlive(ws);
  tcp.on("data", (chunk: Buffer) => {
    ws.send(chunk, { binary: true }, () => {
      if (ws.bufferedAmount < SEND_HIGH_WATER) tcp.resume();
    });
    if (ws.bufferedAmount >= SEND_HIGH_WATER) tcp.pause();
  });
  // The local client is done sending: half-close, the container's server may still answer.
  tcp.once("end", () => ws.send(JSON.stringify({ type: "eof" })));
  tcp.once("close", () => ws.close(SOCKET_CLOSE.normal));
  tcp.on("error", () => ws.close(SOCKET_CLOSE.normal));
  ws.on("message", (data: Buffer, isBinary) => {
    if (isBinary && !tcp.write(data)) {
      ws.pause();
      tcp.once("drain", () => ws.resume());
    }
  });
  ws.once("close", (code, reason) => {
    if (code === SOCKET_CLOSE.normal) tcp.end();
    else {
      if (code !== SOCKET_CLOSE.upstreamFailed) out.note(`ozekai: a forwarded connection ended: ${closeMessage(code, reason.toString("utf8"))}`);
      tcp.destroy();
    }
    if (code === SOCKET_CLOSE.signInEnded) onSignInEnded();
  });
  tcp.resume();
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // Only this machine: a forward must never open the container to the local network.
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/**
 * What a command that forwards a server it starts (`ozekai jupyter`) does once the session is known
 * to run: start it, and say which path of the local URL to print and what else its document holds.
 */
export interface ForwardedServer {
  command: string;
  prepare(session: Session, sessionId: string, out: Output): Promise<{ path: string; data: Record<string, unknown> }>;
}

export async function forwardCommand(globals: GlobalOptions, spec: string, named: string | undefined, served?: ForwardedServer): Promise<number> {
  const out = new Output(globals.json === true, served?.command ?? "forward");
  const server = createServer();
  try {
    const { local, remote } = parseForward(spec);
    const session = openSession(globals);
    const sessionId = await resolveSessionId(session, named);
    // The session must be there and running before anything listens (its problem, its exit code).
    const view = unwrap(await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } } }));
    if (view.state !== "running") throw new CliError("conflict", `Session ${sessionId} is ${view.state}, not running: \`ozekai connect\` first.`);
    const started = served ? await served.prepare(session, sessionId, out) : { path: "", data: {} };
    await listen(server, local).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") throw new CliError("conflict", `Port ${local} is already in use on this machine: pick another, e.g. \`ozekai forward ${local + 1}:${remote}\`.`);
      if (error.code === "EACCES") throw new CliError("usage", `Port ${local} needs more privileges on this machine: pick one above 1023, e.g. \`ozekai forward 8${String(local).padStart(3, "0")}:${remote}\`.`);
      throw error;
    });
    const url = `http://127.0.0.1:${local}`;
    const sockets = new Set<Socket>();
    let code: number = EXIT.ok;
    const stopped = new Promise<void>((resolve) => {
      const stop = (exitCode: number) => {
        code = exitCode;
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      };
      const interrupt = () => stop(EXIT.ok);
      process.once("SIGINT", interrupt);
      process.once("SIGTERM", interrupt);
      server.on("connection", (tcp: Socket) => {
        sockets.add(tcp);
        tcp.once("close", () => sockets.delete(tcp));
        void carry(session, sessionId, remote, tcp, out, () => {
          out.note("ozekai: your sign-in has ended; stopped forwarding. Sign in again with `ozekai login`.");
          stop(EXIT.not_signed_in);
        });
      });
    });
    // The document (or the URL) as soon as it listens: a script reads it and goes on.
    out.result({ sessionId, local, remote, url: `${url}${started.path}`, ...started.data }, [`${url}${started.path}`]);
    out.note(`Forwarding ${url} to port ${remote} of session ${sessionId}. Ctrl-C stops.`);
    await stopped;
    if (code === EXIT.ok) out.note("Stopped forwarding.");
    return code;
  } catch (error) {
    server.close();
    const failure = toCliError(error, undefined);
    out.failure(failure);
    return EXIT[failure.kind];
  }
}

export function registerForwardCommand(program: Program) {
  program
    .command("forward")
    .description("Forward a port of this machine (127.0.0.1 only) to a port of your session's container")
    .argument("<LOCAL[:REMOTE]>", "the local port, and the container's (default: the same)")
    .option("--session <id>", "the session (default: your live one)")
    .addHelpText("after", ["", "Examples:", "  ozekai forward 8888            # Jupyter: open http://127.0.0.1:8888", "  ozekai forward 6006:6006"].join("\n"))
    .action(async (spec, options, command) => {
      process.exitCode = await forwardCommand(command.optsWithGlobals() as GlobalOptions, spec, options.session);
    });
}
