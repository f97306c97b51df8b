/**
 * exec: one command in the session's container without a terminal, over `/v1/sessions/{id}/exec`
 * (docs/decisions/0022-exec-transport.md): stdin piped through to its EOF, stdout and stderr kept
 * apart, and the CLI exits with the command's status.
 */
import type WebSocket from "ws";
import { CliError, EXIT, toCliError } from "../errors.ts";
import { Output } from "../output.ts";
import type { Program } from "../run.ts";
import { closeError, keepAlive, openSessionSocket, resolveSessionId } from "../session-sockets.ts";
import { type GlobalOptions, openSession } from "../session.ts";

/** The frames' first byte (contract/provisioner.ts EXEC_CHANNEL). */
const CHANNEL = { stdin: 0, stdout: 1, stderr: 2 } as const;

/** With --json, each stream is kept up to this many bytes; the rest is counted, not kept. */
export const JSON_OUTPUT_LIMIT = 8 * 1024 * 1024;

/** Input held for the socket beyond this pauses stdin (a slow link must not fill memory). */
const SEND_HIGH_WATER = 1024 * 1024;

/**
 * The CLI's exit status for the command's: 0–255 as they are (a signal n is 128 + n already, as
 * in a shell); anything else, which no process can exit with, is 255.
 */
export const exitStatusOf = (exitCode: number) => (Number.isInteger(exitCode) && exitCode >= 0 && exitCode <= 255 ? exitCode : 255);

/** One stream kept for --json: its first JSON_OUTPUT_LIMIT bytes and its whole size. */
class Kept {
  chunks: Buffer[] = [];
  kept = 0;
  bytes = 0;
  add(bytes: Buffer) {
    this.bytes += bytes.length;
    const room = JSON_OUTPUT_LIMIT - this.kept;
    if (room <= 0) return;
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    this.chunks.push(part);
    this.kept += part.length;
  }
  text = () => Buffer.concat(this.chunks).toString("utf8");
}

interface Exited {
  exitCode: number;
  stdout: Kept;
  stderr: Kept;
}

/** Runs `argv` over the socket until its exit frame; stdout/stderr stream to ours, or are kept with `keep`. */
function runOver(ws: WebSocket, argv: string[], keep: boolean): Promise<Exited> {
  const stdout = new Kept();
  const stderr = new Kept();
  return new Promise((resolve, reject) => {
    let exitCode: number | undefined;
    keepAlive(ws);
    ws.send(JSON.stringify({ type: "start", argv }));

    const stdin = process.stdin;
    const onInput = (chunk: Buffer) => {
      ws.send(Buffer.concat([Buffer.of(CHANNEL.stdin), chunk]), { binary: true }, () => {
        if (ws.bufferedAmount < SEND_HIGH_WATER) stdin.resume();
      });
      if (ws.bufferedAmount >= SEND_HIGH_WATER) stdin.pause();
    };
    const onEnd = () => ws.send(JSON.stringify({ type: "eof" }));
    stdin.on("data", onInput);
    stdin.once("end", onEnd);
    // stdin that cannot be read (closed, a directory) is an empty one.
    stdin.once("error", onEnd);
    const stopReading = () => {
      stdin.off("data", onInput);
      stdin.off("end", onEnd);
      stdin.pause();
      // A terminal's or a pipe's pending read would keep the process alive after the exit.
      stdin.destroy();
    };

    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) {
        const bytes = data.subarray(1);
        const channel = data[0];
        if (keep) (channel === CHANNEL.stderr ? stderr : stdout).add(bytes);
        else {
          const target = channel === CHANNEL.stderr ? process.stderr : process.stdout;
          // Our stdout read slowly (a pager, a pipe): the socket waits for it.
          if (!target.write(bytes)) {
            ws.pause();
            target.once("drain", () => ws.resume());
          }
        }
        return;
      }
      try {
        const message = JSON.parse(data.toString("utf8")) as { type?: string; exitCode?: unknown };
        if (message.type === "exit" && typeof message.exitCode === "number") exitCode = message.exitCode;
      } catch {
        // not a control frame the CLI knows: ignored
      }
    });
    ws.once("close", (code, reason) => {
      stopReading();
      if (exitCode !== undefined) return resolve({ exitCode, stdout, stderr });
      reject(closeError(code, reason.toString("utf8")));
    });
  });
}

/** Writes `text` and waits until it is handed to the OS (a pipe drains before the process exits). */
const flush = (stream: NodeJS.WriteStream, text: string) => new Promise<void>((resolve) => stream.write(text, () => resolve()));

export async function execCommand(globals: GlobalOptions, named: string | undefined, argv: string[]): Promise<number> {
  const out = new Output(globals.json === true, "exec");
  const session = (() => {
    try {
      return openSession(globals);
    } catch (error) {
      return toCliError(error, undefined);
    }
  })();
  if (session instanceof CliError) {
    out.failure(session);
    return EXIT[session.kind];
  }
  try {
    if (argv.length === 0) throw new CliError("usage", "Name the command after `--`: `ozekai exec -- ls -la`.");
    const sessionId = await resolveSessionId(session, named);
    const ws = await openSessionSocket(session, sessionId, "exec");
    // Ctrl-C closes the socket: the API hangs the command up (what it started with nohup lives on).
    const interrupted = () => ws.close(1000, "interrupted");
    process.once("SIGINT", interrupted);
    const exited = await runOver(ws, argv, out.json).finally(() => process.off("SIGINT", interrupted));
    const status = exitStatusOf(exited.exitCode);
    if (out.json) {
      const data = {
        sessionId,
        exitCode: exited.exitCode,
        stdout: exited.stdout.text(),
        stderr: exited.stderr.text(),
        stdoutBytes: exited.stdout.bytes,
        stderrBytes: exited.stderr.bytes,
        truncated: exited.stdout.bytes > exited.stdout.kept || exited.stderr.bytes > exited.stderr.kept,
      };
      await flush(process.stdout, `${JSON.stringify({ ok: true, command: "exec", data })}\n`);
    }
    return status;
  } catch (error) {
    const failure = toCliError(error, session.apiUrl);
    out.failure(failure);
    return EXIT[failure.kind];
  }
}

export function registerExecCommand(program: Program) {
  program
    .command("exec")
    .description("Run one command in your session's container, without a terminal; exits with its status")
    .usage("[--session ID] -- CMD [ARGS…]")
    .option("--session <id>", "the session (default: your live one)")
    .argument("[cmd...]", "the command and its arguments, after --")
    .addHelpText(
      "after",
      [
        "",
        "No shell reads the command: for a pipeline or a redirection, run one: `ozekai exec -- sh -c 'cd data && ls | wc -l'`.",
        "stdin is passed on to the command (EOF included); its stdout and stderr come out on ours.",
        "",
        "Examples:",
        "  ozekai exec -- nvidia-smi",
        "  ozekai exec -- sh -c 'python train.py > log.txt 2>&1'",
        "  ozekai exec -- cat > local-copy.txt < /dev/null",
        "  ozekai exec --json -- uname -a",
      ].join("\n"),
    )
    .action(async (cmd, options, command) => {
      process.exitCode = await execCommand(command.optsWithGlobals() as GlobalOptions, options.session, cmd);
    });
}
