/**
 * SSH into a session (docs/decisions/0039-ssh-into-sessions.md): sshd runs inside the container as
 * the session's own user on SSH_PORT of its tenant network, reached only through the port-forward
 * socket (policy §5: no inbound port). Set up by one exec as that user, because the root file
 * system is read-only and Docker's archive API cannot write into the /tmp tmpfs:
 * - the host key lives in the workspace (made on its first session, the same for every later one);
 * - authorized_keys lives in /tmp, written anew at every start from the account's keys of the
 *   moment, so a key removed from the account is gone from the next session whatever the
 *   workspace holds;
 * - sshd reads no config file (`-f /dev/null`): every setting is on its command line.
 */
import type { Duplex } from "node:stream";
import { parseSshPublicKey } from "../../../contract/ssh-keys.ts";
import { exitStatus } from "../exec.ts";
import type { Services } from "../services.ts";
import { WORKSPACE_USER } from "./spec.ts";

/** The container port sshd listens on (unprivileged: sshd is not root). */
export const SSH_PORT = 2222;

const SSHD_OPTIONS = [
  "AuthorizedKeysFile=$run/authorized_keys",
  // /tmp is world-writable (1777), which StrictModes refuses in any parent of the keys file; the
  // file is written here by this exec, in a directory only the user can enter.
  "StrictModes=no",
  "AuthenticationMethods=publickey",
  "PasswordAuthentication=no",
  "KbdInteractiveAuthentication=no",
  "PermitRootLogin=no",
  "UsePAM=no",
  "AllowAgentForwarding=no",
  "X11Forwarding=no",
  // Local forwards only: VS Code Remote-SSH reaches its server through one; nothing listens for the far side.
  "AllowTcpForwarding=local",
  "AllowStreamLocalForwarding=no",
  "PermitTunnel=no",
  "GatewayPorts=no",
  "PermitUserEnvironment=no",
  "PrintMotd=no",
  "PrintLastLog=no",
  "Subsystem=sftp internal-sftp",
];

/**
 * Exits 0 without output on an image with no sshd (a session without SSH); else prints the host's
 * public key. Idempotent: sshd is started once per container, the keys rewritten every time.
 */
const SETUP_SCRIPT = `set -eu
[ -x /usr/sbin/sshd ] || exit 0
umask 077
keys=/workspace/.ozekai/ssh
run=/tmp/.ozekai-ssh
mkdir -p "$keys" "$run"
[ -s "$keys/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C '' -f "$keys/ssh_host_ed25519_key" >/dev/null
chmod 600 "$keys/ssh_host_ed25519_key"
printf '%s\\n' "$@" > "$run/authorized_keys.new"
mv -f "$run/authorized_keys.new" "$run/authorized_keys"
if ! { [ -s "$run/sshd.pid" ] && kill -0 "$(cat "$run/sshd.pid")" 2>/dev/null; }; then
  /usr/sbin/sshd -f /dev/null -h "$keys/ssh_host_ed25519_key" -p ${SSH_PORT} -E "$run/sshd.log" -o PidFile="$run/sshd.pid" \\
    ${SSHD_OPTIONS.map((option) => `-o "${option}"`).join(" ")} </dev/null >/dev/null 2>&1
fi
ssh-keygen -y -f "$keys/ssh_host_ed25519_key"
`;

/** Bound on what the setup may print (one public key line). */
const OUTPUT_LIMIT = 16 * 1024;

/**
 * Installs `authorizedKeys` for the session's user and starts sshd if it is not running. The host
 * key's public line, or null when the image has no SSH server. The keys are passed as arguments
 * (they are public) after the same parse the Worker applied: only `TYPE BASE64` reaches the file,
 * never an option such as `command=`.
 */
export async function setUpSsh(services: Services, containerId: string, authorizedKeys: readonly string[]): Promise<string | null> {
  const lines = authorizedKeys.flatMap((line) => {
    const parsed = parseSshPublicKey(line);
    return parsed.ok ? [parsed.key] : [];
  });
  const exec = await services.docker.getContainer(containerId).exec({
    Cmd: ["sh", "-c", SETUP_SCRIPT, "ozekai-ssh", ...lines],
    User: WORKSPACE_USER,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let size = 0;
  const sink = (into: Buffer[]) => ({
    write(chunk: Buffer) {
      size += chunk.length;
      if (size <= OUTPUT_LIMIT) into.push(chunk);
      return true;
    },
  });
  services.docker.modem.demuxStream(stream, sink(stdout) as never, sink(stderr) as never); // a Writable's write() is all demuxStream calls
  await new Promise<void>((resolve, reject) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    stream.once("error", reject);
  });
  const exitCode = await exitStatus(exec);
  if (exitCode !== 0) throw new Error(`ssh setup exited ${exitCode}: ${Buffer.concat(stderr).toString("utf8").slice(0, 300)}`);
  const hostKey = parseSshPublicKey(Buffer.concat(stdout).toString("utf8"));
  return hostKey.ok ? hostKey.key : null;
}
