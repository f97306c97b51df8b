/**
 * SSH into the session (docs/decisions/0039-ssh-into-sessions.md): `ssh-key` registers the public
 * keys sessions let in; `proxy` carries stdin/stdout to the container's sshd over one port-forward
 * WebSocket (what ssh's ProxyCommand runs: no inbound port anywhere, policy §5); `ssh` runs the
 * system ssh through it; `ssh-config` writes a `Host ozekai` block so plain ssh, scp, rsync and
 * VS Code Remote-SSH work, with the workspace's host key pinned for the first connection.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { CliError, EXIT, toCliError } from "../errors.ts";
import { Output, table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { closeError, keepAlive, openSessionSocket, resolveSessionId, SOCKET_CLOSE } from "../session-sockets.ts";
import { type GlobalOptions, openSession, type Session, unwrap } from "../session.ts";

/** The container port sshd listens on (provisioner/src/containers/ssh.ts SSH_PORT). */
const SSH_PORT = 2222;
/** The session's user (uid 1000 in the workspace images): sshd runs as it and lets in only it. */
const SSH_USER = "ozekai";
/** The name `ssh-config` gives the session in ~/.ssh/config. */
const HOST = "ozekai";
const BLOCK_START = "# >>> ozekai: written by `ozekai ssh-config`, which rewrites this block";
const BLOCK_END = "# <<< ozekai";

/** Bytes held for the socket beyond this pause stdin. */
const SEND_HIGH_WATER = 1024 * 1024;

/** `~/…` as a shell would read it: the defaults are shown that way in --help. */
const expandHome = (path: string) => (path.startsWith("~/") ? join(homedir(), path.slice(2)) : path);
/** ssh's own key names the workspace: a new workspace (after a destroy) is a new host to ssh. */
const hostKeyAlias = (workspaceId: string) => `ozekai-${workspaceId}`;

/** POSIX shell quoting, and ssh's `%` escaped: ProxyCommand is expanded by ssh, then run by /bin/sh. */
const shellWord = (word: string) => (/^[A-Za-z0-9_./:=@-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`).replace(/%/g, "%%");

/**
 * The ProxyCommand: this very CLI, by absolute paths (the Node running it and its script), so it
 * works from ssh, scp, rsync and an editor whatever their PATH; the API URL named unless it is the default.
 */
function proxyCommandLine(apiUrl: string, explicitUrl: boolean): string {
  const script = realpathSync(process.argv[1] ?? "");
  return [process.execPath, script, ...(explicitUrl ? ["--api-url", apiUrl] : []), "proxy"].map(shellWord).join(" ");
}

/** The running session and its workspace's host key; a usable error when SSH cannot work now. */
async function sshTarget(session: Session, named?: string) {
  const sessionId = await resolveSessionId(session, named);
  const view = unwrap(await session.client.api.GET("/v1/sessions/{id}", { params: { path: { id: sessionId } } }));
  if (view.state !== "running") throw new CliError("conflict", `Session ${sessionId} is ${view.state}, not running: \`ozekai connect\` first.`);
  return { sessionId, workspaceId: view.workspaceId, hostKey: await workspaceHostKey(session) };
}

async function workspaceHostKey(session: Session) {
  const result = await session.client.api.GET("/v1/workspace");
  if (result.response.status === 404) throw new CliError("not_found", "You have no workspace yet: `ozekai connect` makes one (and its SSH host key).");
  const workspace = unwrap(result);
  if (!workspace.sshHostKey) throw new CliError("conflict", "Your workspace has no SSH host key yet: it is made when a session starts on an image with an SSH server (`ozekai connect`).");
  return { workspaceId: workspace.id, ...workspace.sshHostKey };
}

function readPublicKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new CliError("usage", `${file} does not exist. Make a key with \`ssh-keygen -t ed25519\`, or name the .pub file: \`ozekai ssh-key add ~/.ssh/id_rsa.pub\`.`);
    }
    throw new CliError("usage", `${file} cannot be read: ${(error as Error).message}`);
  }
  // A private key never leaves this machine, not even to be refused by the API.
  if (text.includes("PRIVATE KEY")) throw new CliError("usage", `${file} is a private key; nothing was sent. Add its public half: \`ozekai ssh-key add ${file}.pub\`.`);
  return text.trim();
}

// ── proxy ─────────────────────────────────────────────────────────────────────────────────────

/** stdin/stdout ↔ one TCP connection to `port` of the session's container. Nothing else on stdout: it is the stream. */
export async function proxyCommand(globals: GlobalOptions, named: string | undefined, port: number): Promise<number> {
  const out = new Output(false, "proxy");
  try {
    const session = openSession(globals);
    const sessionId = await resolveSessionId(session, named);
    const ws = await openSessionSocket(session, sessionId, `ports/${port}`);
    keepAlive(ws);
    const stdin = process.stdin;
    return await new Promise<number>((resolve) => {
      stdin.on("data", (chunk: Buffer) => {
        ws.send(chunk, { binary: true }, () => {
          if (ws.bufferedAmount < SEND_HIGH_WATER) stdin.resume();
        });
        if (ws.bufferedAmount >= SEND_HIGH_WATER) stdin.pause();
      });
      // ssh closed its side: half-close, sshd may still answer.
      stdin.once("end", () => ws.send(JSON.stringify({ type: "eof" })));
      ws.on("message", (data: Buffer, isBinary) => {
        if (isBinary && !process.stdout.write(data)) {
          ws.pause();
          process.stdout.once("drain", () => ws.resume());
        }
      });
      ws.once("close", (code, reason) => {
        stdin.destroy();
        if (code === SOCKET_CLOSE.normal) return resolve(EXIT.ok);
        const failure = closeError(code, reason.toString("utf8"));
        out.failure(failure);
        resolve(EXIT[failure.kind]);
      });
    });
  } catch (error) {
    const failure = toCliError(error, undefined);
    out.failure(failure);
    return EXIT[failure.kind];
  }
}

// ── ssh ───────────────────────────────────────────────────────────────────────────────────────

/** The system ssh, through the proxy, the host key pinned from the API; its exit status is ssh's. */
async function sshCommand(globals: GlobalOptions, named: string | undefined, args: string[]): Promise<number> {
  const out = new Output(false, "ssh");
  const dir = mkdtempSync(join(tmpdir(), "ozekai-ssh-"));
  try {
    const session = openSession(globals);
    const { hostKey } = await sshTarget(session, named);
    const alias = hostKeyAlias(hostKey.workspaceId);
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `${alias} ${hostKey.publicKey}\n`, { mode: 0o600 });
    const proxy = `${proxyCommandLine(session.apiUrl, globals.apiUrl !== undefined)}${named ? ` --session ${shellWord(named)}` : ""}`;
    const child = spawn(
      "ssh",
      ["-o", `ProxyCommand=${proxy}`, "-o", `HostKeyAlias=${alias}`, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes", "-o", "ForwardAgent=no", "-o", "ForwardX11=no", "-l", SSH_USER, HOST, ...args],
      { stdio: "inherit" },
    );
    return await new Promise<number>((resolve, reject) => {
      child.once("error", (error: NodeJS.ErrnoException) =>
        reject(error.code === "ENOENT" ? new CliError("usage", "No `ssh` on this machine's PATH: install OpenSSH's client (e.g. `apt install openssh-client`).") : error),
      );
      child.once("exit", (code) => resolve(code ?? EXIT.error));
    });
  } catch (error) {
    const failure = toCliError(error, undefined);
    out.failure(failure);
    return EXIT[failure.kind];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ── ssh-config ────────────────────────────────────────────────────────────────────────────────

function configBlock(proxy: string, alias: string, knownHosts: string, identity: string | undefined): string[] {
  return [
    BLOCK_START,
    `Host ${HOST}`,
    `  HostName ${HOST}`,
    `  User ${SSH_USER}`,
    `  ProxyCommand ${proxy}`,
    `  HostKeyAlias ${alias}`,
    `  UserKnownHostsFile ${shellWord(knownHosts)}`,
    "  StrictHostKeyChecking yes",
    "  ForwardAgent no",
    "  ForwardX11 no",
    ...(identity ? [`  IdentityFile ${shellWord(identity)}`, "  IdentitiesOnly yes"] : []),
    BLOCK_END,
  ];
}

/** The file with our block replaced in place, or put first (ssh takes the first value it reads for each option). */
function withBlock(existing: string, block: string[]): string {
  const lines = existing === "" ? [] : existing.replace(/\n$/, "").split("\n");
  const start = lines.indexOf(BLOCK_START);
  const end = start >= 0 ? lines.indexOf(BLOCK_END, start) : -1;
  if (start >= 0 && end >= 0) lines.splice(start, end - start + 1, ...block);
  else lines.unshift(...block, ...(lines.length > 0 ? [""] : []));
  return `${lines.join("\n")}\n`;
}

/** known_hosts with this alias's line replaced (other workspaces' lines kept). */
function withKnownHost(existing: string, alias: string, publicKey: string): string {
  const kept = existing.split("\n").filter((line) => line !== "" && !line.startsWith(`${alias} `));
  return `${[...kept, `${alias} ${publicKey}`].join("\n")}\n`;
}

// ── the commands ──────────────────────────────────────────────────────────────────────────────

export function registerSshCommands(program: Program) {
  const keys = program.command("ssh-key").description("The SSH public keys your sessions let in (add, list, rm)");

  keys
    .command("add")
    .description("Add an SSH public key (Ed25519, or RSA of at least 3072 bits): your running session and later ones let it in")
    .argument("[FILE]", "the public key file", join("~", ".ssh", "id_ed25519.pub"))
    .option("--name <name>", "a label (default: the key's comment)")
    .addHelpText("after", ["", "Examples:", "  ozekai ssh-key add", "  ozekai ssh-key add ~/.ssh/id_rsa.pub --name work-laptop"].join("\n"))
    .action((file, options, command) =>
      run(command, async ({ globals }) => {
        const publicKey = readPublicKey(expandHome(file));
        const session = openSession(globals);
        await session.requireSignIn();
        const key = unwrap(await session.client.api.POST("/v1/account/ssh-keys", { body: { publicKey, ...(options.name ? { name: options.name } : {}) } }));
        return {
          data: key,
          lines: [`Added ${key.name}: ${key.type} ${key.bits} ${key.fingerprint} (id ${key.id}). Your running session and every later one let it in.`],
        };
      }),
    );

  keys
    .command("list")
    .description("List your SSH public keys with their fingerprints")
    .addHelpText("after", "\nExample:\n  ozekai ssh-key list --json")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const { keys: list } = unwrap(await session.client.api.GET("/v1/account/ssh-keys"));
        const lines = list.length === 0 ? ["No SSH keys: add one with `ozekai ssh-key add`."] : list.flatMap((k) => table([[k.id, `${k.name} · ${k.type} ${k.bits} · ${k.fingerprint} · added ${k.createdAt}`]]));
        return { data: { keys: list }, lines };
      }),
    );

  keys
    .command("rm")
    .description("Remove an SSH key: your running session and later ones no longer let it in")
    .argument("<ID>", "the key's id (`ozekai ssh-key list`)")
    .addHelpText("after", "\nExample:\n  ozekai ssh-key rm 3f2c…")
    .action((id, _options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        unwrap(await session.client.api.DELETE("/v1/account/ssh-keys/{id}", { params: { path: { id } } }));
        return { data: { id, removed: true }, lines: [`Removed SSH key ${id}. Your running session and every later one no longer let it in.`] };
      }),
    );

  program
    .command("proxy")
    .description("Carry stdin/stdout to your session's SSH server: what ssh's ProxyCommand runs (`ozekai ssh-config` sets it)")
    .option("--session <id>", "the session (default: your live one)")
    .option("--port <port>", "the container's port", String(SSH_PORT))
    .addHelpText("after", "\nExample:\n  ssh -o ProxyCommand='ozekai proxy' ozekai@ozekai")
    .action(async (options, command) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        new Output(false, "proxy").failure(new CliError("usage", `--port ${JSON.stringify(options.port)} is not a port (1-65535).`));
        process.exitCode = EXIT.usage;
        return;
      }
      process.exitCode = await proxyCommand(command.optsWithGlobals() as GlobalOptions, options.session, port);
    });

  program
    .command("ssh")
    .description("SSH into your running session with the system ssh, its host key verified (arguments after -- go to ssh)")
    .option("--session <id>", "the session (default: your live one)")
    .argument("[ARGS...]", "ssh's own options and a remote command")
    .addHelpText("after", ["", "Examples:", "  ozekai ssh", "  ozekai ssh -- nvidia-smi", "  ozekai ssh -- -L 8888:localhost:8888"].join("\n"))
    .action(async (args, options, command) => {
      process.exitCode = await sshCommand(command.optsWithGlobals() as GlobalOptions, options.session, args);
    });

  program
    .command("ssh-config")
    .description("Write (or update) a `Host ozekai` block in ~/.ssh/config, with the workspace's host key pinned, for ssh, scp, rsync and VS Code")
    .option("--config <file>", "the ssh config file", join("~", ".ssh", "config"))
    .option("--identity <file>", "the private key ssh offers (default: ssh's own choice)")
    .option("--print", "print the block instead of writing anything")
    .addHelpText("after", ["", "Examples:", "  ozekai ssh-config && ssh ozekai", "  ozekai ssh-config --print", "  rsync -a data/ ozekai:data/"].join("\n"))
    .action((options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const hostKey = await workspaceHostKey(session);
        const configFile = expandHome(options.config);
        const knownHostsFile = join(dirname(configFile), "ozekai_known_hosts");
        const alias = hostKeyAlias(hostKey.workspaceId);
        const block = configBlock(proxyCommandLine(session.apiUrl, globals.apiUrl !== undefined), alias, knownHostsFile, options.identity);
        const data = { host: HOST, configFile, knownHostsFile, hostKeyAlias: alias, fingerprint: hostKey.fingerprint, written: !options.print, block: block.join("\n") };
        if (options.print) return { data, lines: [...block, `# ${knownHostsFile}:`, `# ${alias} ${hostKey.publicKey}`] };
        mkdirSync(dirname(configFile), { recursive: true, mode: 0o700 });
        const existing = existsSync(configFile) ? readFileSync(configFile, "utf8") : "";
        writeFileSync(configFile, withBlock(existing, block), { mode: 0o600 });
        writeFileSync(knownHostsFile, withKnownHost(existsSync(knownHostsFile) ? readFileSync(knownHostsFile, "utf8") : "", alias, hostKey.publicKey), { mode: 0o600 });
        return {
          data,
          lines: [
            `Wrote \`Host ${HOST}\` to ${configFile}; the workspace's host key ${hostKey.fingerprint} (ED25519) is pinned in ${knownHostsFile}.`,
            `Now: ssh ${HOST} · scp FILE ${HOST}: · rsync -a DIR/ ${HOST}:DIR/ · VS Code: Remote-SSH: Connect to Host… → ${HOST}`,
          ],
        };
      }),
    );
}
