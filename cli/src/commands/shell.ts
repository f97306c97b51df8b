/**
 * shell: an interactive terminal in the session's container over `/v1/sessions/{id}/shell`: raw
 * mode, the terminal's size (at the start and on every SIGWINCH), ssh's `~.` to detach, a
 * keepalive, and a new shell after a dropped connection (docs/decisions/0027-cli-session-sockets.md).
 */
import type WebSocket from "ws";
import { CliError, EXIT, toCliError } from "../errors.ts";
import { Output } from "../output.ts";
import type { Program } from "../run.ts";
import { closeError, closeMessage, keepAlive, openSessionSocket, resolveSessionId, SOCKET_CLOSE } from "../session-sockets.ts";
import { type GlobalOptions, openSession, type Session } from "../session.ts";

/** Waits before each reconnect, in ms: five tries over about half a minute. */
const RECONNECT_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000];

const TILDE = 0x7e;
const HELP = "\r\nSupported escape sequences (after a newline):\r\n  ~.  detach (the session keeps running and billing)\r\n  ~?  this help\r\n  ~~  send one ~\r\n";

/**
 * ssh's escape: `~` right after a newline (or at the start) is held; `.` after it detaches, `?`
 * shows the help, `~` sends one `~`, anything else sends both.
 */
export class EscapeReader {
  private atLineStart = true;
  private pendingTilde = false;
  feed(chunk: Buffer): { send: Buffer; detach: boolean; help: boolean } {
    const send: number[] = [];
    let help = false;
    for (const byte of chunk) {
      if (this.pendingTilde) {
        this.pendingTilde = false;
        if (byte === 0x2e) return { send: Buffer.from(send), detach: true, help };
        if (byte === 0x3f) {
          help = true;
          continue;
        }
        send.push(TILDE);
        if (byte === TILDE) {
          this.atLineStart = false;
          continue;
        }
      } else if (this.atLineStart && byte === TILDE) {
        this.pendingTilde = true;
        continue;
      }
      send.push(byte);
      this.atLineStart = byte === 0x0d || byte === 0x0a;
    }
    return { send: Buffer.from(send), detach: false, help };
  }
}

type Ended = { kind: "detached" } | { kind: "exited" } | { kind: "closed"; code: number; reason: string };

/** The terminal in raw mode until `restore()`, which every way out calls (and the process's exit, last). */
function rawTerminal() {
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    stdin.setRawMode(false);
    stdin.pause();
  };
  process.once("exit", restore);
  return { restore };
}

/** One shell's life on `ws`: keys in (through the escape), output out, the size on start and resize. */
function attach(ws: WebSocket, keys: EscapeReader): Promise<Ended> {
  return new Promise((resolve) => {
    const sendSize = () => ws.send(JSON.stringify({ type: "resize", cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 }));
    sendSize();
    keepAlive(ws);
    let ended: Ended | undefined;
    const onKeys = (chunk: Buffer) => {
      const { send, detach, help } = keys.feed(chunk);
      if (send.length > 0) ws.send(send, { binary: true });
      if (help) process.stderr.write(HELP);
      if (detach) {
        ended = { kind: "detached" };
        ws.close(SOCKET_CLOSE.normal, "detached");
      }
    };
    const onOutput = (data: Buffer, isBinary: boolean) => {
      if (isBinary) process.stdout.write(data);
    };
    process.stdin.on("data", onKeys);
    process.stdout.on("resize", sendSize);
    ws.on("message", onOutput);
    ws.once("close", (code, reason) => {
      process.stdin.off("data", onKeys);
      process.stdout.off("resize", sendSize);
      resolve(ended ?? (code === SOCKET_CLOSE.normal ? { kind: "exited" } : { kind: "closed", code, reason: reason.toString("utf8") }));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A new shell after a drop: a few tries with backoff; what cannot get better by waiting (the sign-in ended, the session is gone) stops at once. */
async function reconnect(session: Session, sessionId: string, out: Output): Promise<WebSocket> {
  let last: CliError | undefined;
  for (const [index, delay] of RECONNECT_DELAYS_MS.entries()) {
    out.note(`\rozekai: reconnecting in ${delay / 1000} s (try ${index + 1} of ${RECONNECT_DELAYS_MS.length})…\r`);
    await sleep(delay);
    try {
      return await openSessionSocket(session, sessionId, "shell");
    } catch (error) {
      last = toCliError(error, session.apiUrl);
      if (last.kind !== "unavailable") throw last;
    }
  }
  throw new CliError("unavailable", `Could not reconnect to the shell: ${last?.message ?? "no answer"} The session keeps running and billing; \`ozekai shell\` tries again.`);
}

/**
 * The interactive shell of `sessionId` until it exits or the user detaches; returns the exit code
 * (0 detached or exited, else the documented code of what ended it) after printing what happened.
 * For `connect` as much as for `shell`.
 */
export async function openShell(globals: GlobalOptions, sessionId: string): Promise<number> {
  const out = new Output(false, "shell");
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    out.failure(new CliError("usage", "`ozekai shell` needs a terminal. To run a command without one: `ozekai exec -- CMD`."));
    return EXIT.usage;
  }
  let terminal: { restore(): void } | undefined;
  try {
    const session = openSession(globals);
    let ws = await openSessionSocket(session, sessionId, "shell");
    out.note(`Connected to session ${sessionId}. Type ~. after a newline to detach, ~? for help.`);
    terminal = rawTerminal();
    const keys = new EscapeReader();
    for (;;) {
      const ended = await attach(ws, keys);
      if (ended.kind === "detached") {
        terminal.restore();
        out.note("\nDetached: the session keeps running and billing. `ozekai shell` opens a new shell; `ozekai disconnect` stops it.");
        return EXIT.ok;
      }
      if (ended.kind === "exited") {
        terminal.restore();
        out.note("The shell exited; the session keeps running and billing (`ozekai disconnect` stops it).");
        return EXIT.ok;
      }
      const { code, reason } = ended;
      // A dropped connection, the socket's lifetime or a host failure: worth a new shell; anything else is final.
      if (code !== SOCKET_CLOSE.dropped && code !== SOCKET_CLOSE.lifetimeReached && code !== SOCKET_CLOSE.hostFailed) throw closeError(code, reason);
      out.note(`\r\nozekai: ${closeMessage(code, reason)}\r`);
      ws = await reconnect(session, sessionId, out);
      out.note("\rozekai: reconnected. This is a new shell: the old one was hung up (what you started with nohup or tmux still runs).\r");
    }
  } catch (error) {
    terminal?.restore();
    const failure = toCliError(error, undefined);
    out.failure(failure);
    return EXIT[failure.kind];
  }
}

export function registerShellCommand(program: Program) {
  program
    .command("shell")
    .description("An interactive terminal in your session's container")
    .argument("[session]", "the session id (default: your live session)")
    .addHelpText(
      "after",
      [
        "",
        "Type ~. at the start of a line to detach: the session keeps running and billing (`ozekai disconnect` stops it).",
        "~? lists the escapes, ~~ sends one ~. A dropped connection is noticed within about 25 s and",
        "reconnected (a new shell: the old one is hung up; nohup and tmux keep what they run).",
        "",
        "Examples:",
        "  ozekai shell",
        "  ozekai shell 01JD7K…",
      ].join("\n"),
    )
    .action(async (named, _options, command) => {
      const globals = command.optsWithGlobals() as GlobalOptions;
      const out = new Output(false, "shell");
      if (globals.json) {
        out.failure(new CliError("usage", "`ozekai shell` is interactive and has no --json; use `ozekai exec --json -- CMD`."));
        process.exitCode = EXIT.usage;
        return;
      }
      if (!process.stdin.isTTY || !process.stdout.isTTY) {
        process.exitCode = await openShell(globals, named ?? "");
        return;
      }
      try {
        const sessionId = await resolveSessionId(openSession(globals), named);
        process.exitCode = await openShell(globals, sessionId);
      } catch (error) {
        const failure = toCliError(error, undefined);
        out.failure(failure);
        process.exitCode = EXIT[failure.kind];
      }
    });
}
