/**
 * Cold storage on the host (src/workspaces/exports.ts, docs/decisions/0010-cold-storage.md): a
 * staged snapshot of the workspace tar read part by part with per-part SHA-256, and the verified
 * import a restore uses. Against the real Docker Engine and real files in a state directory.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { docker, listedWorkspace, sha256, startSession, startTestProvisioner, type TestProvisioner, tracker, WORKSPACE_IMAGE, cpuPlan } from "./harness.ts";
import { LABELS, workspaceVolumeName } from "../src/containers/spec.ts";
import { stageExport } from "../src/workspaces/exports.ts";

let provisioner: TestProvisioner;
let stateDir: string;
const made = tracker();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "ozk-exports-test-"));
  provisioner = await startTestProvisioner({ stateDir });
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const PART = 64 * 1024;

type Stage = { status: "staged"; stageId: string; partSize: number; size: number; sha256: string; partHashes: string[] };

const put = (p: TestProvisioner, workspaceId: string, path: string, data: Uint8Array) =>
  p.request("PUT", `/v1/workspaces/${workspaceId}/files/${path}`, { raw: data, headers: { "content-type": "application/octet-stream" } });
const stage = (p: TestProvisioner, workspaceId: string, body: unknown) => p.request("POST", `/v1/workspaces/${workspaceId}/exports`, { body });
const part = (p: TestProvisioner, workspaceId: string, n: number | string) => p.request("GET", `/v1/workspaces/${workspaceId}/exports/parts/${n}`);

/** A workspace with no container (as one is between sessions), holding a file of `size` random bytes. */
async function idleWorkspace(size = 300_000) {
  const workspaceId = made.workspace();
  const data = randomBytes(size);
  expect((await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/archive`, { raw: await emptyTar() })).status).toBe(200);
  expect((await put(provisioner, workspaceId, "data/blob.bin", data)).status).toBe(201);
  return { workspaceId, data };
}

/** An empty tar (two zero blocks): importing it creates the volume. */
const emptyTar = async () => Buffer.alloc(1024);

async function stageOf(p: TestProvisioner, workspaceId: string, stageId = "attempt-1", partSize = PART): Promise<Stage> {
  const response = await stage(p, workspaceId, { stageId, partSize });
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Stage;
}

async function allParts(p: TestProvisioner, workspaceId: string, count: number): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (let n = 1; n <= count; n++) {
    const response = await part(p, workspaceId, n);
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get("content-length")).toBe(String(bytes.length));
    parts.push(bytes);
  }
  return parts;
}

describe("staged export", () => {
  it("stages the tar with the SHA-256 of the whole and of each fixed-size part; the parts import back into an identical workspace", async () => {
    const { workspaceId, data } = await idleWorkspace();
    const staged = await stageOf(provisioner, workspaceId);
    expect(staged).toMatchObject({ status: "staged", stageId: "attempt-1", partSize: PART });
    expect(staged.partHashes.length).toBe(Math.ceil(staged.size / PART));
    expect(staged.partHashes.length).toBeGreaterThan(4);

    const parts = await allParts(provisioner, workspaceId, staged.partHashes.length);
    parts.forEach((bytes, i) => {
      expect(bytes.length).toBe(i < parts.length - 1 ? PART : staged.size - PART * (parts.length - 1));
      expect(sha256(bytes)).toBe(staged.partHashes[i]);
    });
    const whole = Buffer.concat(parts);
    expect(sha256(whole)).toBe(staged.sha256);

    const target = made.workspace();
    const restored = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: whole, headers: { "x-archive-sha256": staged.sha256 } });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const back = await provisioner.request("GET", `/v1/workspaces/${target}/files/data/blob.bin`);
    expect(sha256(new Uint8Array(await back.arrayBuffer()))).toBe(sha256(data));
  });

  it("stages the tar compressed with zstd: code and text take a fraction of their size, and the stage restores byte for byte", async () => {
    const workspaceId = made.workspace();
    expect((await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/archive`, { raw: await emptyTar() })).status).toBe(200);
    const code = Buffer.from("export const answer = (question: string) => question.length * 42;\n".repeat(20_000));
    expect((await put(provisioner, workspaceId, "src/answer.ts", code)).status).toBe(201);
    const staged = await stageOf(provisioner, workspaceId);
    const whole = Buffer.concat(await allParts(provisioner, workspaceId, staged.partHashes.length));
    expect([...whole.subarray(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]); // zstd's frame magic
    expect(staged.size).toBeLessThan(code.length / 10);

    const target = made.workspace();
    const restored = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: whole, headers: { "x-archive-sha256": staged.sha256 } });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const back = await provisioner.request("GET", `/v1/workspaces/${target}/files/src/answer.ts`);
    expect(sha256(new Uint8Array(await back.arrayBuffer()))).toBe(sha256(code));
  });

  it("is idempotent for one attempt, and a new attempt takes a new snapshot", async () => {
    const { workspaceId } = await idleWorkspace();
    const first = await stageOf(provisioner, workspaceId);
    expect(await stageOf(provisioner, workspaceId)).toEqual(first);
    // The volume changed between attempts (a session ran): a stage for another attempt sees it.
    expect((await put(provisioner, workspaceId, "later.txt", Buffer.from("written after the first attempt"))).status).toBe(201);
    const second = await stageOf(provisioner, workspaceId, "attempt-2");
    expect(second.sha256).not.toBe(first.sha256);
    expect(second.size).toBeGreaterThan(first.size);
  });

  it("survives a provisioner restart; a staging killed mid-way leaves only a temp file, discarded and redone", async () => {
    const { workspaceId } = await idleWorkspace();
    const staged = await stageOf(provisioner, workspaceId);
    const restarted = await startTestProvisioner({ stateDir });
    try {
      // A complete stage is kept as it is.
      expect(await stageOf(restarted, workspaceId)).toEqual(staged);
      // A provisioner killed while staging attempt-2 left a temp file and no manifest for it.
      const exportsDir = join(stateDir, "exports");
      await writeFile(join(exportsDir, `${workspaceId}.deadbeef0000.tar.partial`), randomBytes(1000));
      const redone = await stageOf(restarted, workspaceId, "attempt-2");
      expect(redone.stageId).toBe("attempt-2");
      expect((await readdir(exportsDir)).filter((name) => name.startsWith(workspaceId)).sort()).toEqual([`${workspaceId}.json`, `${workspaceId}.tar`]);
      const parts = await allParts(restarted, workspaceId, redone.partHashes.length);
      expect(sha256(Buffer.concat(parts))).toBe(redone.sha256);
    } finally {
      await restarted.close();
    }
  });

  it("answers `staging` when the stage is not written within the wait, and goes on in the background", async () => {
    const { workspaceId } = await idleWorkspace();
    const input = { stageId: "attempt-1", partSize: PART };
    // No wait at all: the stage cannot be written before the answer (Docker is asked first).
    expect(await stageExport(provisioner.services, workspaceId, input, 0)).toMatchObject({ status: "staging", stageId: "attempt-1" });
    const staged = await stageExport(provisioner.services, workspaceId, input, 60_000);
    expect(staged).toMatchObject({ status: "staged", stageId: "attempt-1" });
    expect(await stageOf(provisioner, workspaceId)).toEqual(staged);
  });

  it("refuses to stage while a session container mounts the workspace (no snapshot of a live volume)", async () => {
    const { workspaceId } = await startSession(provisioner, made);
    const refused = await stage(provisioner, workspaceId, { stageId: "attempt-1", partSize: PART });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: "workspace_in_use" });
  });

  it("creating a session container for the workspace discards its stage", async () => {
    const { workspaceId } = await idleWorkspace();
    await stageOf(provisioner, workspaceId);
    expect((await part(provisioner, workspaceId, 1)).status).toBe(200);
    const ids = { sessionId: `t-s-${randomBytes(6).toString("hex")}`, workspaceId, tenantId: `t-t-${randomBytes(6).toString("hex")}` };
    made.ids.sessions.push(ids.sessionId);
    made.ids.tenants.push(ids.tenantId);
    const created = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: WORKSPACE_IMAGE, plan: cpuPlan } });
    expect(created.status).toBe(201);
    const gone = await part(provisioner, workspaceId, 1);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toMatchObject({ code: "export_not_found" });
  });

  it("DELETE removes the stage (twice is fine), and deleting the workspace removes it too", async () => {
    const { workspaceId } = await idleWorkspace();
    await stageOf(provisioner, workspaceId);
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}/exports`)).status).toBe(204);
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}/exports`)).status).toBe(204);
    expect((await part(provisioner, workspaceId, 1)).status).toBe(404);

    await stageOf(provisioner, workspaceId, "attempt-2");
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}`)).status).toBe(204);
    expect((await readdir(join(stateDir, "exports"))).filter((name) => name.startsWith(workspaceId))).toEqual([]);
  });

  it("answers problems for bad input: no stage, a part out of range, a bad part size, a missing workspace", async () => {
    const { workspaceId } = await idleWorkspace(1000);
    expect(await (await part(provisioner, workspaceId, 1)).json()).toMatchObject({ code: "export_not_found" });
    const staged = await stageOf(provisioner, workspaceId);
    expect(staged.partHashes).toHaveLength(1);
    expect((await part(provisioner, workspaceId, 2)).status).toBe(416);
    expect((await part(provisioner, workspaceId, 0)).status).toBe(416);
    expect((await part(provisioner, workspaceId, "x")).status).toBe(400);
    for (const body of [{ stageId: "a", partSize: 1024 }, { stageId: "a" }, { stageId: "../x", partSize: PART }, { stageId: "a", partSize: PART, extra: 1 }]) {
      expect((await stage(provisioner, workspaceId, body)).status).toBe(400);
    }
    const missing = await stage(provisioner, made.workspace(), { stageId: "a", partSize: PART });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: "workspace_not_found" });
  });

  it("needs a signed request like every other route", async () => {
    const { workspaceId } = await idleWorkspace(10);
    for (const [method, path] of [
      ["POST", `/v1/workspaces/${workspaceId}/exports`],
      ["GET", `/v1/workspaces/${workspaceId}/exports/parts/1`],
      ["DELETE", `/v1/workspaces/${workspaceId}/exports`],
    ] as const) {
      expect((await fetch(`${provisioner.url}${path}`, { method })).status).toBe(401);
      // A token for another route is refused too.
      const token = await provisioner.token("GET", `/v1/workspaces/${workspaceId}/archive`);
      expect((await fetch(`${provisioner.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    }
  });
});

describe("verified import (restore)", () => {
  async function archiveOf(size: number) {
    const { workspaceId, data } = await idleWorkspace(size);
    const response = await provisioner.request("GET", `/v1/workspaces/${workspaceId}/archive`);
    const archive = Buffer.from(await response.arrayBuffer());
    return { archive, data };
  }

  it("refuses a body whose SHA-256 is not the announced one and leaves no workspace", async () => {
    const { archive } = await archiveOf(200_000);
    const corrupt = Buffer.from(archive);
    const at = corrupt.length - 2048 - 100; // inside the file's bytes: a valid tar, other content
    corrupt[at] = (corrupt[at] ?? 0) ^ 0xff;
    const target = made.workspace();
    const refused = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: corrupt, headers: { "x-archive-sha256": sha256(archive) } });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: "archive_checksum_mismatch" });
    expect(await listedWorkspace(provisioner, target)).toBeUndefined();
    expect(await docker.listVolumes({ filters: { name: [workspaceVolumeName(target)] } })).toMatchObject({ Volumes: [] });
  });

  it("restores a plain tar too (a cold copy staged before compression), byte for byte", async () => {
    const { archive, data } = await archiveOf(200_000);
    expect(archive.subarray(0, 2).toString()).toBe("./"); // a tar, not zstd
    const target = made.workspace();
    const restored = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: archive, headers: { "x-archive-sha256": sha256(archive) } });
    expect(restored.status, await restored.clone().text()).toBe(200);
    const back = await provisioner.request("GET", `/v1/workspaces/${target}/files/data/blob.bin`);
    expect(sha256(new Uint8Array(await back.arrayBuffer()))).toBe(sha256(data));
  });

  it("refuses a zstd stage that zstd cannot read (its frame header broken, the announced SHA-256 its own) and leaves no workspace", async () => {
    const { workspaceId } = await idleWorkspace(200_000);
    const staged = await stageOf(provisioner, workspaceId);
    const corrupt = Buffer.concat(await allParts(provisioner, workspaceId, staged.partHashes.length));
    corrupt[4] = (corrupt[4] ?? 0) ^ 0xff; // the frame header descriptor: reserved bits set
    const target = made.workspace();
    const refused = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: corrupt, headers: { "x-archive-sha256": sha256(corrupt) } });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: "archive_checksum_mismatch" });
    expect(await listedWorkspace(provisioner, target)).toBeUndefined();
    expect(await docker.listVolumes({ filters: { name: [workspaceVolumeName(target)] } })).toMatchObject({ Volumes: [] });
  });

  it("refuses a truncated body and leaves no workspace", async () => {
    const { archive } = await archiveOf(200_000);
    const target = made.workspace();
    const refused = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: archive.subarray(0, 100_000), headers: { "x-archive-sha256": sha256(archive) } });
    expect(refused.status).toBe(400);
    expect(await listedWorkspace(provisioner, target)).toBeUndefined();
  });

  it("a client gone while the host still prepares the restore leaves no workspace and no helper, and the host keeps answering", async () => {
    const { archive } = await archiveOf(200_000);
    const target = made.workspace();
    const path = `/v1/workspaces/${target}/archive`;
    const token = await provisioner.token("PUT", path, { length: archive.length, sha256: sha256(archive) });
    // The head and a first chunk; the connection drops once the volume exists, while the host is
    // still making the helper container, before the import reads a byte.
    const socket = connect(provisioner.address.port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(
      `PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nX-Archive-Sha256: ${sha256(archive)}\r\nContent-Length: ${archive.length}\r\n\r\n`,
    );
    socket.write(archive.subarray(0, 4096));
    await vi.waitFor(async () => expect((await docker.listVolumes({ filters: { name: [workspaceVolumeName(target)] } })).Volumes).toHaveLength(1), { timeout: 10_000, interval: 5 });
    socket.destroy();
    await vi.waitFor(
      async () => {
        expect(await docker.listVolumes({ filters: { name: [workspaceVolumeName(target)] } })).toMatchObject({ Volumes: [] });
        expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.helper}=${target}`] } })).toEqual([]);
      },
      { timeout: 20_000, interval: 250 },
    );
    expect((await provisioner.request("GET", "/v1/inventory")).status).toBe(200);
  });

  it("never writes into an existing workspace, and refuses a malformed checksum", async () => {
    const { archive } = await archiveOf(1000);
    const { workspaceId: existing, data } = await idleWorkspace(500);
    const refused = await provisioner.request("PUT", `/v1/workspaces/${existing}/archive`, { raw: archive, headers: { "x-archive-sha256": sha256(archive) } });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: "workspace_exists" });
    const kept = await provisioner.request("GET", `/v1/workspaces/${existing}/files/data/blob.bin`);
    expect(sha256(new Uint8Array(await kept.arrayBuffer()))).toBe(sha256(data));

    const malformed = await provisioner.request("PUT", `/v1/workspaces/${made.workspace()}/archive`, { raw: archive, headers: { "x-archive-sha256": "ABC" } });
    expect(malformed.status).toBe(400);
  });
});
