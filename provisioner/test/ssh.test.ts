/**
 * SSH in a session (src/containers/ssh.ts): sshd as the workspace user with exactly the keys of
 * this create, parsed again so no option reaches authorized_keys, the host key kept in the
 * workspace; an image without sshd runs its session without SSH.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cpuPlan, execIn, startTestProvisioner, type TestProvisioner, tracker, uid, WORKSPACE_IMAGE } from "./harness.ts";

const BASE_IMAGE = "ozekai/base:local";
let provisioner: TestProvisioner;
const made = tracker();
const keysDir = mkdtempSync(join(tmpdir(), "ozk-ssh-keys-"));

/** A public key line made by ssh-keygen now. */
function publicKey(name: string, type = "ed25519", bits?: number): string {
  const file = join(keysDir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", String(bits)] : []), "-N", "", "-C", `${name}@test`, "-f", file]);
  return readFileSync(`${file}.pub`, "utf8").trim();
}
const withoutComment = (line: string) => line.split(" ").slice(0, 2).join(" ");

beforeAll(async () => {
  // Idempotent: a no-op when the image is there (the Worker's and the CLI's setups build it too).
  await promisify(execFile)("bash", [fileURLToPath(new URL("../../images/base/build.sh", import.meta.url)), BASE_IMAGE], { maxBuffer: 64 * 1024 * 1024 });
  provisioner = await startTestProvisioner({ images: [WORKSPACE_IMAGE, BASE_IMAGE] });
}, 600_000);
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

async function create(ids: { sessionId: string; workspaceId: string; tenantId: string }, image: string, authorizedKeys: string[]) {
  const response = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image, plan: cpuPlan, ssh: { authorizedKeys } } });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { containerId: string; state: string; sshHostKey: string | null };
}

const inContainer = async (containerId: string, script: string) => (await execIn(containerId, ["sh", "-c", script])).replace(/\r/g, "");

describe("SSH in a session container", () => {
  it("an image without an SSH server: the session runs, with no host key", async () => {
    const body = await create(made.session(), WORKSPACE_IMAGE, [publicKey("plain")]);
    expect(body).toMatchObject({ state: "running", sshHostKey: null });
  });

  it("runs sshd as the workspace user on 2222, key only, with exactly the keys given, each as TYPE BASE64", async () => {
    const good = publicKey("good");
    const rsa = publicKey("rsa", "rsa", 3072);
    const weak = publicKey("weak", "rsa", 2048);
    const body = await create(made.session(), BASE_IMAGE, [good, `command="touch /workspace/pwned" ${good}`, `${rsa}\nssh-ed25519 AAAA injected`, weak, "garbage", rsa]);
    expect(body.state).toBe("running");
    expect(body.sshHostKey).toMatch(/^ssh-ed25519 [A-Za-z0-9+/]+=*$/);
    expect(await inContainer(body.containerId, "cat /tmp/.ozekai-ssh/authorized_keys")).toBe(`${withoutComment(good)}\n${withoutComment(rsa)}\n`);
    const sshd = await inContainer(body.containerId, "ps -ww -o user=,args= -C sshd");
    expect(sshd).toMatch(/^ozekai +sshd: \/usr\/sbin\/sshd -f \/dev\/null -h \/workspace\/\.ozekai\/ssh\/ssh_host_ed25519_key -p 2222 /);
    for (const setting of ["AuthenticationMethods=publickey", "PasswordAuthentication=no", "PermitRootLogin=no", "AllowAgentForwarding=no", "X11Forwarding=no", "AllowTcpForwarding=local", "Subsystem=sftp internal-sftp"]) {
      expect(sshd).toContain(setting);
    }
    expect(await inContainer(body.containerId, "stat -c '%U %a' /workspace/.ozekai/ssh/ssh_host_ed25519_key /tmp/.ozekai-ssh")).toBe("ozekai 600\nozekai 700\n");
    // The key the container holds is the one reported.
    expect((await inContainer(body.containerId, "ssh-keygen -y -f /workspace/.ozekai/ssh/ssh_host_ed25519_key")).trim()).toBe(body.sshHostKey);
  });

  it("keeps the host key in the workspace: the next session on it presents the same key, with only its own keys", async () => {
    const first = made.session();
    const a = publicKey("a");
    const b = publicKey("b");
    const one = await create(first, BASE_IMAGE, [a]);
    expect((await provisioner.request("DELETE", `/v1/containers/${first.sessionId}`)).status).toBe(204);
    const second = { ...first, sessionId: uid("s") };
    made.ids.sessions.push(second.sessionId);
    const two = await create(second, BASE_IMAGE, [b]);
    expect(two.sshHostKey).toBe(one.sshHostKey);
    expect(await inContainer(two.containerId, "cat /tmp/.ozekai-ssh/authorized_keys")).toBe(`${withoutComment(b)}\n`);
    // Replaced in the running session: the old set is gone, sshd is the same process.
    const pid = await inContainer(two.containerId, "cat /tmp/.ozekai-ssh/sshd.pid");
    const replaced = await provisioner.request("PUT", `/v1/containers/${second.sessionId}/ssh`, { body: { authorizedKeys: [a] } });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({ sshHostKey: one.sshHostKey });
    expect(await inContainer(two.containerId, "cat /tmp/.ozekai-ssh/authorized_keys")).toBe(`${withoutComment(a)}\n`);
    expect(await inContainer(two.containerId, "cat /tmp/.ozekai-ssh/sshd.pid")).toBe(pid);
    expect((await provisioner.request("PUT", `/v1/containers/${uid("s")}/ssh`, { body: { authorizedKeys: [a] } })).status).toBe(404);
    // Another workspace has a key of its own.
    const other = await create(made.session(), BASE_IMAGE, [a]);
    expect(other.sshHostKey).not.toBe(one.sshHostKey);
  });
});
