/**
 * SSH into the session with the real OpenSSH client: `ssh-key add`, `ssh-config`, then plain
 * `ssh ozekai`, `scp` and `rsync` through `ozekai proxy` (the ProxyCommand) to sshd in the
 * container; a key not registered, or removed before the next connect, refused; the host key
 * pinned by `ssh-config` still verifying after a disconnect and a connect.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { entitledUser, jsonOf, ozekai, type Ran, runningSession, shown, signedInUser, type TestUser } from "./harness.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A fresh Ed25519 key pair made by ssh-keygen; its private key's path. */
function keyPair(dir: string, name: string): string {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@test`, "-f", file]);
  return file;
}

const fingerprintOf = (pub: string) => execFileSync("ssh-keygen", ["-lf", pub], { encoding: "utf8" }).split(" ")[1];
const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** What ssh's ProxyCommand inherits: the test API and this user's sign-in, as a user's shell would hold them. */
function environment(user: TestUser): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("OZEKAI_") || name === "SSH_AUTH_SOCK") delete env[name];
  return { ...env, PATH: `${join(ROOT, "node_modules/.bin")}:${process.env.PATH ?? ""}`, OZEKAI_API_URL: inject("apiUrl"), OZEKAI_CONFIG_DIR: user.configDir, NO_COLOR: "1" };
}

function runTool(program: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `dir` (relative path → mode, and content or link target). */
function tree(dir: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      const key = relative(dir, path);
      if (entry.isDirectory()) walk(path);
      else if (entry.isSymbolicLink()) found[key] = `link → ${readlinkSync(path)}`;
      else found[key] = `${(statSync(path).mode & 0o777).toString(8)} ${sha256(path)}`;
    }
  };
  walk(dir);
  return found;
}

describe("ozekai ssh, ssh-config and proxy", () => {
  let user: TestUser;
  let dir: string;
  let key: string;
  let spare: string;
  let spareId: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  /** Plain ssh with the `Host ozekai` block and one identity offered, nothing from an agent or ~/.ssh. */
  const ssh = (identity: string, args: string[], configFile = config) => runTool("ssh", ["-F", configFile, "-i", identity, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "ozekai", ...args], env);
  const sshOption = (identity: string) => `ssh -F ${config} -i ${identity} -o IdentitiesOnly=yes -o BatchMode=yes`;

  beforeAll(async () => {
    user = await entitledUser();
    env = environment(user);
    dir = mkdtempSync(join(tmpdir(), "ozekai-ssh-test-"));
    key = keyPair(dir, "id_ed25519");
    spare = keyPair(dir, "spare");
    const added = await ozekai(["ssh-key", "add", `${key}.pub`, "--json"], { configDir: user.configDir });
    expect(added.code, shown(added)).toBe(0);
    expect(jsonOf(added).data).toMatchObject({ name: "id_ed25519@test", type: "ssh-ed25519", bits: 256, fingerprint: fingerprintOf(`${key}.pub`) });
    const second = await ozekai(["ssh-key", "add", `${spare}.pub`, "--name", "spare", "--json"], { configDir: user.configDir });
    expect(second.code, shown(second)).toBe(0);
    spareId = jsonOf(second).data!.id as string;
    await runningSession(user);
    config = join(dir, "config");
    writeFileSync(config, "Host elsewhere\n  HostName example.invalid\n");
    const written = await ozekai(["ssh-config", "--config", config, "--json"], { configDir: user.configDir });
    expect(written.code, shown(written)).toBe(0);
  }, 240_000);

  it("ssh-key list shows both keys with ssh-keygen's fingerprints; add refuses a private key without sending it", async () => {
    const listed = await ozekai(["ssh-key", "list", "--json"], { configDir: user.configDir });
    expect(listed.code, shown(listed)).toBe(0);
    expect((jsonOf(listed).data!.keys as { name: string; fingerprint: string }[]).map((k) => [k.name, k.fingerprint])).toEqual([
      ["id_ed25519@test", fingerprintOf(`${key}.pub`)],
      ["spare", fingerprintOf(`${spare}.pub`)],
    ]);
    const secret = await ozekai(["ssh-key", "add", key], { configDir: user.configDir });
    expect(secret.code, shown(secret)).toBe(2);
    expect(secret.stderr).toContain("is a private key; nothing was sent");
    const dsa = join(dir, "dsa.pub");
    writeFileSync(dsa, "ssh-dss AAAAB3NzaC1kc3MAAACBAP1 test\n");
    const refused = await ozekai(["ssh-key", "add", dsa, "--json"], { configDir: user.configDir });
    expect(refused.code, shown(refused)).toBe(2);
    expect(jsonOf(refused).error).toMatchObject({ status: 422, code: "ssh_key_unsupported" });
    const missing = await ozekai(["ssh-key", "add", join(dir, "nothing.pub")], { configDir: user.configDir });
    expect(missing.code, shown(missing)).toBe(2);
    expect(missing.stderr).toContain("ssh-keygen -t ed25519");
  });

  it("ssh-config wrote one Host ozekai block (first, the rest kept) and pinned the host key that status shows", async () => {
    const text = readFileSync(config, "utf8");
    expect(text.match(/^Host ozekai$/gm)).toHaveLength(1);
    expect(text).toContain("Host elsewhere");
    expect(text.indexOf("Host ozekai")).toBeLessThan(text.indexOf("Host elsewhere"));
    expect(text).toMatch(new RegExp(`ProxyCommand ${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\S+/cli/bin/ozekai\\.js proxy`));
    // Again: the block is replaced, not doubled.
    const again = await ozekai(["ssh-config", "--config", config], { configDir: user.configDir });
    expect(again.code, shown(again)).toBe(0);
    expect(readFileSync(config, "utf8")).toBe(text);
    const status = await ozekai(["status", "--json"], { configDir: user.configDir });
    const hostKey = (jsonOf(status).data!.workspace as { sshHostKey: { publicKey: string; fingerprint: string } }).sshHostKey;
    expect(hostKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(again.stdout).toContain(hostKey.fingerprint);
    const known = readFileSync(join(dir, "ozekai_known_hosts"), "utf8");
    expect(known).toMatch(new RegExp(`^ozekai-\\S+ ${hostKey.publicKey.replace(/[+/]/g, "\\$&")}\n$`));
    // The pinned key is the one sshd presents: ssh-keygen reads it the same.
    writeFileSync(join(dir, "host.pub"), `${hostKey.publicKey}\n`);
    expect(fingerprintOf(join(dir, "host.pub"))).toBe(hostKey.fingerprint);
    expect((await ozekai(["status"], { configDir: user.configDir })).stdout).toMatch(new RegExp(`^ssh host key +${hostKey.fingerprint.replace(/[+/]/g, "\\$&")} \\(ED25519\\)$`, "m"));
    const printed = await ozekai(["ssh-config", "--print", "--identity", key], { configDir: user.configDir });
    expect(printed.stdout).toContain(`IdentityFile ${key}`);
  });

  it("ssh ozekai runs commands as the session's user in /workspace, with the host key verified", async () => {
    const ran = await ssh(key, ["true"]);
    expect(ran.code, shown(ran)).toBe(0);
    const who = await ssh(key, ["id -un; pwd; python3 -c 'print(1+1)'"]);
    expect(who.code, shown(who)).toBe(0);
    expect(who.stdout).toBe("ozekai\n/workspace\n2\n");
    // A host key other than the pinned one is refused: the check is real.
    const forged = join(dir, "forged_known_hosts");
    const alias = readFileSync(join(dir, "ozekai_known_hosts"), "utf8").split(" ")[0];
    writeFileSync(forged, `${alias} ${readFileSync(`${spare}.pub`, "utf8").split(" ").slice(0, 2).join(" ")}\n`);
    const other = join(dir, "config-forged");
    writeFileSync(other, readFileSync(config, "utf8").replace(/UserKnownHostsFile \S+/, `UserKnownHostsFile ${forged}`));
    const refused = await ssh(key, ["true"], other);
    expect(refused.code, shown(refused)).toBe(255);
    expect(refused.stderr).toContain("REMOTE HOST IDENTIFICATION HAS CHANGED");
  });

  it("ozekai ssh -- ARGS runs the system ssh through the proxy, with ssh's exit status", async () => {
    const ran = await ozekai(["ssh", "--", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "sh", "-c", "'echo via-cli; exit 3'"], { configDir: user.configDir, env: { SSH_AUTH_SOCK: undefined } });
    expect(ran.code, shown(ran)).toBe(3);
    expect(ran.stdout).toBe("via-cli\n");
  });

  it("a key that is not registered is refused", async () => {
    const stranger = keyPair(dir, "stranger");
    const ran = await ssh(stranger, ["true"]);
    expect(ran.code, shown(ran)).toBe(255);
    expect(ran.stderr).toContain("Permission denied (publickey)");
  });

  it("scp copies a file up and back unchanged (sftp)", async () => {
    const up = join(dir, "up.bin");
    writeFileSync(up, randomBytes(3 * 1024 * 1024 + 17));
    const sent = await runTool("scp", ["-F", config, "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", up, "ozekai:up.bin"], env);
    expect(sent.code, shown(sent)).toBe(0);
    const back = join(dir, "back.bin");
    const fetched = await runTool("scp", ["-F", config, "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "ozekai:up.bin", back], env);
    expect(fetched.code, shown(fetched)).toBe(0);
    expect(sha256(back)).toBe(sha256(up));
    const remote = await ssh(key, ["sha256sum up.bin"]);
    expect(remote.stdout.split(" ")[0]).toBe(sha256(up));
  });

  it("rsync -a copies a directory (modes, links, nested files) up and back", async () => {
    const source = join(dir, "project");
    mkdirSync(join(source, "src", "deep"), { recursive: true });
    writeFileSync(join(source, "README.md"), "# project\n");
    writeFileSync(join(source, "src", "train.py"), "print('train')\n", { mode: 0o755 });
    writeFileSync(join(source, "src", "deep", "weights.bin"), randomBytes(200_000));
    symlinkSync("src/train.py", join(source, "run.py"));
    const up = await runTool("rsync", ["-a", "-e", sshOption(key), `${source}/`, "ozekai:project/"], env);
    expect(up.code, shown(up)).toBe(0);
    const copy = join(dir, "project-back");
    const down = await runTool("rsync", ["-a", "-e", sshOption(key), "ozekai:project/", `${copy}/`], env);
    expect(down.code, shown(down)).toBe(0);
    expect(tree(copy)).toEqual(tree(source));
    expect(Object.keys(tree(source))).toHaveLength(4);
  });

  it("proxy: no live session is exit 4 with the reason on stderr, nothing on stdout", async () => {
    const idle = await signedInUser();
    const ran = await ozekai(["proxy"], { configDir: idle.configDir });
    expect(ran.code, shown(ran)).toBe(4);
    expect(ran.stdout).toBe("");
    expect(ran.stderr).toContain("no live session");
    const noHost = await ozekai(["ssh-config", "--print"], { configDir: idle.configDir });
    expect(noHost.code, shown(noHost)).toBe(4);
  });

  it("a key added mid-session works at once; one removed is refused at once and after the next connect; the host key stays the one pinned", async () => {
    const late = keyPair(dir, "late");
    expect((await ssh(late, ["true"])).code).toBe(255);
    const added = await ozekai(["ssh-key", "add", `${late}.pub`], { configDir: user.configDir });
    expect(added.code, shown(added)).toBe(0);
    const welcomed = await ssh(late, ["true"]);
    expect(welcomed.code, shown(welcomed)).toBe(0);

    expect((await ssh(spare, ["true"])).code).toBe(0);
    const removed = await ozekai(["ssh-key", "rm", spareId, "--json"], { configDir: user.configDir });
    expect(removed.code, shown(removed)).toBe(0);
    const refusedNow = await ssh(spare, ["true"]);
    expect(refusedNow.code, shown(refusedNow)).toBe(255);
    expect(refusedNow.stderr).toContain("Permission denied (publickey)");
    const again = await ozekai(["ssh-key", "rm", spareId], { configDir: user.configDir });
    expect(again.code, shown(again)).toBe(4);
    // What the user writes into the session's own authorized_keys, or into the workspace's
    // ~/.ssh, does not outlive the session: sshd reads neither at the next start.
    const line = readFileSync(`${spare}.pub`, "utf8").trim();
    const planted = await ssh(key, [`echo '${line}' >> /tmp/.ozekai-ssh/authorized_keys && mkdir -p -m 700 ~/.ssh && echo '${line}' > ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys`]);
    expect(planted.code, shown(planted)).toBe(0);
    expect((await ssh(spare, ["true"])).code).toBe(0);
    const before = (await ozekai(["status", "--json"], { configDir: user.configDir })).stdout;

    const disconnected = await ozekai(["disconnect"], { configDir: user.configDir });
    expect(disconnected.code, shown(disconnected)).toBe(0);
    await runningSession(user);

    const refused = await ssh(spare, ["true"]);
    expect(refused.code, shown(refused)).toBe(255);
    expect(refused.stderr).toContain("Permission denied (publickey)");
    // The config and known_hosts written before the disconnect still verify the new session's sshd.
    const kept = await ssh(key, ["cat up.bin | sha256sum"]);
    expect(kept.code, shown(kept)).toBe(0);
    expect(kept.stdout.split(" ")[0]).toBe(sha256(join(dir, "up.bin")));
    const after = (await ozekai(["status", "--json"], { configDir: user.configDir })).stdout;
    const hostKey = (document: string) => (JSON.parse(document).data.workspace as { sshHostKey: unknown }).sshHostKey;
    expect(hostKey(after)).toEqual(hostKey(before));
  });
});
