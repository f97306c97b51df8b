import { isDockerUnreachable } from "../errors.ts";
import { logUnexpected } from "../http/problem.ts";
import type { Services } from "../services.ts";
import { WORKSPACE_USER } from "./spec.ts";

/**
 * The variable that marks what a shell or an exec started (`OZEKAI_ATTACH=<random id>`), so that
 * it can be found again in the container and hung up when its bridge closes.
 */
export const ATTACH_MARKER = "OZEKAI_ATTACH";

/**
 * Hangs up what one shell or exec started, as a terminal hang-up would: SIGHUP to every process in
 * the session of the process that carries the marker (Docker starts every exec, with a TTY or
 * without, as a session leader), then SIGKILL to that leader if it is still there, so the exec
 * ends. Closing the exec's stream does not do this in Docker (the shim keeps its pipes or its TTY
 * open), so a foreground job kept running after the bridge closed. What a user deliberately
 * detached (nohup, setsid, a tmux server) survives, as on any host. pid 1's session is never a
 * target. Runs as the session's user, so it can signal nothing the shell could not.
 */
const HANG_UP_SCRIPT = `
marker="$1"; leaders=""
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

/** The environment entry that marks one attachment. */
export const attachMarker = (id: string) => `${ATTACH_MARKER}=${id}`;

/** Hangs up the attachment marked `marker` (attachMarker); a container already gone has nothing left to end. */
export function hangUp(services: Services, containerId: string, marker: string, logId: string): void {
  (async () => {
    const exec = await services.docker.getContainer(containerId).exec({
      Cmd: ["sh", "-c", HANG_UP_SCRIPT, "hang-up", marker],
      User: WORKSPACE_USER,
      AttachStdout: false,
      AttachStderr: false,
    });
    await exec.start({ Detach: true });
  })().catch((error: unknown) => {
    const { statusCode, message } = error as { statusCode?: number; message?: string };
    const gone = statusCode === 404 || statusCode === 409 || /not running|stopped state/.test(message ?? "");
    if (!gone && !isDockerUnreachable(error)) logUnexpected(logId, error);
  });
}
