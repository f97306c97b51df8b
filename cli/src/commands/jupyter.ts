/**
 * jupyter: starts JupyterLab in the session's container (when its image has it) and forwards it
 * to 127.0.0.1 through the authenticated port forward (forward.ts), printing the URL with its
 * token. The token is made here and reaches JupyterLab on the exec's stdin (JUPYTER_TOKEN), never
 * in a command line; a JupyterLab this command started before is reused with its token.
 */
import { randomBytes } from "node:crypto";
import { CliError } from "../errors.ts";
import type { Output } from "../output.ts";
import type { Program } from "../run.ts";
import { openSessionSocket } from "../session-sockets.ts";
import type { GlobalOptions, Session } from "../session.ts";
import { forwardCommand, parseForward } from "./forward.ts";

/** JupyterLab's port in the container. */
export const JUPYTER_PORT = 8888;

/** The start script's exit status when the image has no JupyterLab. */
const NOT_INSTALLED = 3;

const STATE = "/tmp/ozekai-jupyter"; // the container's tmpfs: gone with the session

/**
 * Checks for jupyter-lab (on PATH or in ~/.local/bin, where `pip install --user` puts it), reuses
 * one it started before, or starts one detached with the token from stdin. Prints the token. It
 * listens on the container's own address, where the host's port forward connects (its tenant
 * network reaches no other tenant); the token guards it there too.
 */
const START_SCRIPT = `
PATH="$HOME/.local/bin:$PATH"
command -v jupyter-lab >/dev/null 2>&1 || exit ${NOT_INSTALLED}
umask 077
if [ -f ${STATE}.pid ] && kill -0 "$(cat ${STATE}.pid)" 2>/dev/null && [ -f ${STATE}.token ]; then cat ${STATE}.token; exit 0; fi
IFS= read -r token
printf %s "$token" >${STATE}.token
JUPYTER_TOKEN="$token" nohup jupyter-lab --no-browser --ip=0.0.0.0 --port=${JUPYTER_PORT} --ServerApp.root_dir=/workspace </dev/null >${STATE}.log 2>&1 &
echo $! >${STATE}.pid
printf %s "$token"
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs argv in the container with `stdin`, to its exit: its status and output. */
async function execIn(session: Session, sessionId: string, argv: string[], stdin = ""): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const ws = await openSessionSocket(session, sessionId, "exec");
  return new Promise((resolve, reject) => {
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    let exitCode: number | undefined;
    ws.send(JSON.stringify({ type: "start", argv }));
    if (stdin) ws.send(Buffer.concat([Buffer.of(0), Buffer.from(stdin)]), { binary: true });
    ws.send(JSON.stringify({ type: "eof" }));
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) (data[0] === 2 ? out.stderr : out.stdout).push(data.subarray(1));
      else {
        const frame = JSON.parse(data.toString("utf8")) as { type?: string; exitCode?: number };
        if (frame.type === "exit") exitCode = frame.exitCode;
      }
    });
    ws.once("close", () => {
      if (exitCode === undefined) reject(new CliError("unavailable", "The session's exec ended before the command did; try again."));
      else resolve({ exitCode, stdout: Buffer.concat(out.stdout).toString("utf8"), stderr: Buffer.concat(out.stderr).toString("utf8") });
    });
    ws.once("error", reject);
  });
}

/** Waits until something accepts connections on JupyterLab's port (the forward's own check). */
async function untilListening(session: Session, sessionId: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const ws = await openSessionSocket(session, sessionId, `ports/${JUPYTER_PORT}`);
      ws.close(1000);
      return true;
    } catch (error) {
      if (!(error instanceof CliError && error.extra.code === "port_closed")) throw error;
    }
    await sleep(1000);
  }
  return false;
}

async function startJupyter(session: Session, sessionId: string, out: Output, timeoutMs: number) {
  const started = await execIn(session, sessionId, ["sh", "-c", START_SCRIPT], `${randomBytes(24).toString("hex")}\n`);
  if (started.exitCode === NOT_INSTALLED) {
    const view = (await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } } })).data;
    throw new CliError(
      "not_found",
      `JupyterLab is not installed in session ${sessionId}${view ? ` (the ${view.image} image)` : ""}. Connect with an image that has it (\`ozekai images\`: jupyter yes), e.g. \`ozekai disconnect && ozekai connect --image pytorch\`, or install it in your workspace with pip (it is looked for in ~/.local/bin too).`,
    );
  }
  const token = started.stdout.trim();
  if (started.exitCode !== 0 || !/^[0-9a-f]{48}$/.test(token)) throw new CliError("error", `Starting JupyterLab failed (exit ${started.exitCode}): ${started.stderr.trim().slice(0, 500)}`);
  out.note("JupyterLab is starting…");
  if (!(await untilListening(session, sessionId, timeoutMs))) {
    const log = await execIn(session, sessionId, ["sh", "-c", `tail -n 20 ${STATE}.log`]).catch(() => undefined);
    throw new CliError("error", `JupyterLab did not listen on port ${JUPYTER_PORT} within ${timeoutMs / 1000} s.${log?.stdout ? ` Its log ends:\n${log.stdout.trim()}` : ""}`);
  }
  return { path: `/lab?token=${token}`, data: { token } };
}

export function registerJupyterCommand(program: Program) {
  program
    .command("jupyter")
    .description("Start JupyterLab in your session and forward it to this machine: prints its URL with the token")
    .option("--port <local>", "the local port (127.0.0.1 only)", String(JUPYTER_PORT))
    .option("--session <id>", "the session (default: your live one)")
    .option("--timeout <seconds>", "how long to wait for JupyterLab to listen", "120")
    .addHelpText(
      "after",
      ["", "Exits 4 when the session's image has no JupyterLab (`ozekai images` says which do).", "", "Examples:", "  ozekai jupyter", "  ozekai jupyter --port 9999"].join("\n"),
    )
    .action(async (options, command) => {
      const timeoutMs = Math.max(1, Number.parseInt(options.timeout, 10) || 120) * 1000;
      const globals = command.optsWithGlobals() as GlobalOptions;
      // Validated as forward validates it: a bad port is a usage error before anything starts.
      const spec = `${options.port}:${JUPYTER_PORT}`;
      parseForward(spec);
      process.exitCode = await forwardCommand(globals, spec, options.session, { command: "jupyter", prepare: (session, sessionId, out) => startJupyter(session, sessionId, out, timeoutMs) });
    });
}
