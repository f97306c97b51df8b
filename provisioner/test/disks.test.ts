/** Workspace disks: a workspace holds no more than its plan's size, on a disk of its own (src/workspaces/disks.ts). */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import tar from "tar-stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { workspaceVolumeName } from "../src/containers/spec.ts";
import { diskPaths } from "../src/workspaces/disks.ts";
import { workspaceOwnerOnHost } from "../src/workspaces/volumes.ts";
import { cpuPlan, docker, execIn, startTestProvisioner, type TestProvisioner, tracker, WORKSPACE_IMAGE } from "./harness.ts";

const run = promisify(execFile);

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const MIB = 1024 * 1024;
const smallPlan = { ...cpuPlan, workspaceMb: 64 };

async function createSession(on: TestProvisioner, ids: { sessionId: string; workspaceId: string; tenantId: string }, plan: object = smallPlan) {
  const response = await on.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan } });
  expect(response.status, await response.clone().text()).toBeLessThan(300);
  return ((await response.json()) as { containerId: string }).containerId;
}

const diskOf = (on: TestProvisioner, workspaceId: string) => diskPaths(join(on.services.config.workspaceDir, workspaceId));
const mounted = async (path: string) => (await readFile("/proc/self/mountinfo", "utf8")).split("\n").some((line) => line.split(" ")[4] === path);

describe("a workspace's disk bounds what it holds", () => {
  it("fills up cleanly inside the container at the plan's size, while another tenant's workspace on the host still writes", async () => {
    const full = made.session();
    const other = made.session();
    const fullContainer = await createSession(provisioner, full);
    const otherContainer = await createSession(provisioner, other);

    const filled = await execIn(fullContainer, ["sh", "-c", "dd if=/dev/zero of=/workspace/fill bs=1M count=100 2>&1; echo rc=$?"]);
    expect(filled).toContain("No space left on device");
    expect(filled).toContain("rc=1");
    // On the host, the workspace takes no more than its disk, whatever was written into it.
    const image = await stat(diskOf(provisioner, full.workspaceId).image);
    expect(image.size).toBe(64 * MIB);
    expect(image.blocks * 512).toBeLessThanOrEqual(64 * MIB);

    const wrote = await execIn(otherContainer, ["sh", "-c", "dd if=/dev/zero of=/workspace/data bs=1M count=32 2>&1 && echo written"]);
    expect(wrote).toContain("written");
    expect(wrote).not.toContain("No space");
  });

  it("answers 507 workspace_full to an upload or an append past the size", async () => {
    const ids = made.session();
    const containerId = await createSession(provisioner, ids);
    const put = (path: string, data: Uint8Array) => provisioner.request("PUT", `/v1/workspaces/${ids.workspaceId}/files/${path}`, { raw: data });

    const tooBig = await put("big.bin", Buffer.alloc(80 * MIB));
    expect(tooBig.status).toBe(507);
    expect(await tooBig.json()).toMatchObject({ code: "workspace_full" });

    await execIn(containerId, ["rm", "-f", "/workspace/big.bin"]); // what the refused upload left
    expect((await put("log.txt", Buffer.from("start"))).status).toBe(201);
    const appended = await provisioner.request("PUT", `/v1/workspaces/${ids.workspaceId}/files/log.txt?offset=5`, { raw: Buffer.alloc(80 * MIB) });
    expect(appended.status).toBe(507);
    expect(await appended.json()).toMatchObject({ code: "workspace_full" });

    await execIn(containerId, ["sh", "-c", "rm -rf /workspace/log.txt /workspace/many"]);
    const pack = tar.pack();
    pack.entry({ name: "big.bin", size: 80 * MIB }, Buffer.alloc(80 * MIB));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    const unpacked = await provisioner.request("PUT", `/v1/workspaces/${ids.workspaceId}/unpack/many`, { raw: Buffer.concat(chunks) });
    expect(unpacked.status).toBe(507);
    expect(await unpacked.json()).toMatchObject({ code: "workspace_full" });
  });

  it("is as large as the plan says, grows with the plan and never shrinks", async () => {
    const ids = made.session();
    const running = await createSession(provisioner, ids);
    const { image, root } = diskOf(provisioner, ids.workspaceId);
    expect((await stat(image)).size).toBe(64 * MIB);
    // Not while a running container has it mounted (it is grown offline): asked again, nothing changes.
    expect((await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: { ...cpuPlan, workspaceMb: 128 } } })).status).toBe(200);
    expect((await stat(image)).size).toBe(64 * MIB);
    expect(await execIn(running, ["sh", "-c", "echo still > /workspace/still && cat /workspace/still"])).toContain("still");

    const again = async (workspaceMb: number) => {
      expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);
      ids.sessionId = made.session().sessionId;
      return createSession(provisioner, ids, { ...cpuPlan, workspaceMb });
    };
    const grown = await again(128);
    expect((await stat(image)).size).toBe(128 * MIB);
    // The file system grew with its image: the container can fill the new room.
    expect(await execIn(grown, ["sh", "-c", "dd if=/dev/zero of=/workspace/fill bs=1M count=96 2>&1 && echo written"])).toContain("written");
    await again(64);
    expect((await stat(image)).size).toBe(128 * MIB);
    expect(existsSync(join(root, "fill"))).toBe(true);
  });

  it("takes its size from X-Workspace-Mb when an import makes it (a restore), and refuses a size that is not one", async () => {
    const pack = tar.pack();
    pack.entry({ name: "hello.txt" }, "hello");
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of pack) chunks.push(chunk as Buffer);
    const workspaceId = made.workspace();
    const imported = await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/archive`, { raw: Buffer.concat(chunks), headers: { "x-workspace-mb": "96" } });
    expect(imported.status).toBe(200);
    expect((await stat(diskOf(provisioner, workspaceId).image)).size).toBe(96 * MIB);

    for (const size of ["12", "1e3", "-1", "big"]) {
      const refused = await provisioner.request("PUT", `/v1/workspaces/${made.workspace()}/archive`, { raw: Buffer.concat(chunks), headers: { "x-workspace-mb": size } });
      expect(refused.status, size).toBe(400);
    }
  });

  it("is mounted again on first use after the host unmounted it (a reboot), by a provisioner started anew", async () => {
    const stateDir = provisioner.services.config.stateDir;
    const first = await startTestProvisioner({ stateDir });
    const ids = made.session();
    await createSession(first, ids);
    expect((await first.request("PUT", `/v1/workspaces/${ids.workspaceId}/files/notes.txt`, { raw: Buffer.from("kept") })).status).toBe(201);
    expect((await first.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);
    await first.close();
    const { mountpoint } = diskOf(first, ids.workspaceId);
    await run("umount", [mountpoint]);
    expect(await mounted(mountpoint)).toBe(false);

    const second = await startTestProvisioner({ stateDir });
    try {
      const read = await second.request("GET", `/v1/workspaces/${ids.workspaceId}/files/notes.txt`);
      expect(read.status).toBe(200);
      expect(await read.text()).toBe("kept");
      expect(await mounted(mountpoint)).toBe(true);
      ids.sessionId = made.session().sessionId;
      expect(await execIn(await createSession(second, ids), ["cat", "/workspace/notes.txt"])).toBe("kept");
    } finally {
      await second.close();
    }
  });

  it("belongs on the host to the workspace user, shifted by the base of Docker's userns-remap", async () => {
    const ids = made.session();
    await createSession(provisioner, ids);
    const { uid, gid } = await stat(diskOf(provisioner, ids.workspaceId).root);
    expect({ uid, gid }).toEqual({ uid: 1000, gid: 1000 });
    expect(workspaceOwnerOnHost({ SecurityOptions: ["name=seccomp,profile=default"], DockerRootDir: "/var/lib/docker" })).toEqual({ uid: 1000, gid: 1000 });
    expect(workspaceOwnerOnHost({ SecurityOptions: ["name=seccomp,profile=default", "name=userns"], DockerRootDir: "/var/lib/docker/100000.100000" })).toEqual({
      uid: 101000,
      gid: 101000,
    });
    expect(() => workspaceOwnerOnHost({ SecurityOptions: ["name=userns"], DockerRootDir: "/srv/docker" })).toThrow();
  });

  it("is unmounted and deleted with its workspace", async () => {
    const ids = made.session();
    await createSession(provisioner, ids);
    const { mountpoint, image } = diskOf(provisioner, ids.workspaceId);
    expect(await mounted(mountpoint)).toBe(true);
    expect((await provisioner.request("DELETE", `/v1/containers/${ids.sessionId}`)).status).toBe(204);
    expect((await provisioner.request("DELETE", `/v1/workspaces/${ids.workspaceId}`)).status).toBe(204);
    expect(await mounted(mountpoint)).toBe(false);
    expect(existsSync(image)).toBe(false);
    await expect(docker.getVolume(workspaceVolumeName(ids.workspaceId)).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
