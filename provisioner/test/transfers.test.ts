/** Resumable transfers: HTTP Range on downloads, appends at the file's size on uploads. */
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { workspaceVolumeName } from "../src/containers/spec.ts";
import { parseRange } from "../src/http/routes/workspaces.ts";
import { docker, execIn, startTestProvisioner, type TestProvisioner, sha256, startSession, tracker, } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const session = () => startSession(provisioner, made);

const put = (workspaceId: string, path: string, data: Uint8Array, offset?: number) =>
  provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/${path}${offset === undefined ? "" : `?offset=${offset}`}`, { raw: data });
const get = (workspaceId: string, path: string, range?: string) =>
  provisioner.request("GET", `/v1/workspaces/${workspaceId}/files/${path}`, range ? { headers: { range } } : {});

describe("Range", () => {
  it("parses one byte range and ignores what it does not serve", () => {
    expect(parseRange(undefined)).toBeNull();
    expect(parseRange("bytes=5-")).toEqual({ start: 5 });
    expect(parseRange("bytes=5-9")).toEqual({ start: 5, end: 9 });
    expect(parseRange("bytes=-3")).toEqual({ suffix: 3 });
    for (const ignored of ["bytes=9-5", "bytes=-", "bytes=0-1,5-6", "items=0-1", "bytes=a-b"]) expect(parseRange(ignored), ignored).toBeNull();
  });

  it("serves a range with 206 and Content-Range, the whole file with 200, and 416 past the end", async () => {
    const { workspaceId } = await session();
    const data = randomBytes(1024 * 1024 + 5);
    expect((await put(workspaceId, "f.bin", data)).status).toBe(201);

    const whole = await get(workspaceId, "f.bin");
    expect(whole.status).toBe(200);
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256(data));

    const tail = await get(workspaceId, "f.bin", "bytes=1000000-");
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes 1000000-${data.length - 1}/${data.length}`);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(data.subarray(1_000_000));

    const middle = await get(workspaceId, "f.bin", "bytes=10-19");
    expect(middle.headers.get("content-length")).toBe("10");
    expect(Buffer.from(await middle.arrayBuffer())).toEqual(data.subarray(10, 20));

    const suffix = await get(workspaceId, "f.bin", "bytes=-7");
    expect(Buffer.from(await suffix.arrayBuffer())).toEqual(data.subarray(data.length - 7));

    const past = await get(workspaceId, "f.bin", `bytes=${data.length}-`);
    expect(await past.json()).toMatchObject({ status: 416, code: "range_not_satisfiable" });
  });
});

describe("appends", () => {
  it("appends at the file's size, refuses any other offset, and the container sees the whole file", async () => {
    const { workspaceId, containerId } = await session();
    const data = randomBytes(300_000);
    // At offset 0 a missing file is created.
    expect(await (await put(workspaceId, "dir/a.bin", data.subarray(0, 100_000), 0)).json()).toMatchObject({ size: 100_000 });
    const second = await put(workspaceId, "dir/a.bin", data.subarray(100_000, 200_000), 100_000);
    expect(second.status).toBe(201);
    expect(await second.json()).toEqual({ path: "dir/a.bin", size: 200_000, sha256: sha256(data.subarray(100_000, 200_000)) });
    expect(await (await put(workspaceId, "dir/a.bin", data.subarray(100_000, 200_000), 100_000)).json()).toMatchObject({ status: 409, code: "upload_offset_mismatch" });
    expect(await (await put(workspaceId, "dir/a.bin", data.subarray(200_000), 250_000)).json()).toMatchObject({ status: 409, code: "upload_offset_mismatch" });
    expect((await put(workspaceId, "dir/a.bin", data.subarray(200_000), 200_000)).status).toBe(201);

    const checksum = (await (await provisioner.request("GET", `/v1/workspaces/${workspaceId}/checksums/dir/a.bin`)).json()) as { size: number; sha256: string };
    expect(checksum).toMatchObject({ size: 300_000, sha256: sha256(data) });
    expect(await execIn(containerId, ["sh", "-c", "wc -c < /workspace/dir/a.bin"])).toMatch(/300000/);
    // The appending containers are gone: only the session's container mounts the workspace.
    const users = await docker.listContainers({ all: true, filters: { volume: [workspaceVolumeName(workspaceId)] } });
    expect(users.map((c) => c.Id)).toEqual([containerId]);
  });

  it("resumes a file whose upload was cut off midway: the partial, left root's by Docker, is the workspace user's again and the rest appends", async () => {
    const { workspaceId, containerId } = await session();
    const data = randomBytes(8 * 1024 * 1024);
    const path = `/v1/workspaces/${workspaceId}/files/cut.bin`;
    const authorization = `Bearer ${await provisioner.token("PUT", path, { length: data.length })}`;
    // 2 MiB of the 8 announced, then the connection drops: a client killed midway.
    await new Promise<void>((resolve) => {
      const cut = httpRequest(`${provisioner.url}${path}`, { method: "PUT", headers: { authorization, "content-length": String(data.length), "content-type": "application/octet-stream" } });
      cut.on("error", () => resolve());
      const drop = () => {
        cut.destroy();
        resolve();
      };
      cut.write(data.subarray(0, 2 * 1024 * 1024), () => setTimeout(drop, 500));
    });
    const sizeThere = async () => Number(/\/(\d+)$/.exec((await get(workspaceId, "cut.bin", "bytes=0-0")).headers.get("content-range") ?? "")?.[1] ?? -1);
    let size = -1;
    for (let i = 0, last = -2; i < 40 && (size !== last || size <= 0); i++) {
      last = size;
      await sleep(250);
      size = await sizeThere();
    }
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThan(data.length);
    // The cause of the resume that once hung: what Docker's extraction leaves of a cut-off entry is root's.
    expect((await execIn(containerId, ["stat", "-c", "%u", "/workspace/cut.bin"])).trim()).toBe("0");

    const rest = await put(workspaceId, "cut.bin", data.subarray(size), size);
    expect(await rest.json()).toMatchObject({ size: data.length, sha256: sha256(data.subarray(size)) });
    const checksum = (await (await provisioner.request("GET", `/v1/workspaces/${workspaceId}/checksums/cut.bin`)).json()) as { sha256: string };
    expect(checksum.sha256).toBe(sha256(data));
    expect((await execIn(containerId, ["stat", "-c", "%u", "/workspace/cut.bin"])).trim()).toBe("1000");
  });

  it("an append the workspace user may not make answers 403 at once, however much body is still coming", async () => {
    const { workspaceId, containerId } = await session();
    expect((await put(workspaceId, "ro.bin", Buffer.from("start"))).status).toBe(201);
    await execIn(containerId, ["chmod", "0444", "/workspace/ro.bin"]);
    // More than every buffer between here and cat holds: the answer must not wait for the body.
    const refused = await put(workspaceId, "ro.bin", randomBytes(32 * 1024 * 1024), 5);
    expect(await refused.json()).toMatchObject({ status: 403, code: "permission_denied" });
    expect((await get(workspaceId, "ro.bin")).headers.get("content-length")).toBe("5");
  });

  it("refuses to append to a directory, through a symbolic link, or with a bad offset", async () => {
    const { workspaceId, containerId } = await session();
    await execIn(containerId, ["sh", "-c", "mkdir -p /workspace/d && ln -s /etc/passwd /workspace/evil"]);
    expect(await (await put(workspaceId, "d", Buffer.from("x"), 0)).json()).toMatchObject({ status: 409, code: "not_a_file" });
    expect(await (await put(workspaceId, "evil", Buffer.from("x"), 0)).json()).toMatchObject({ status: 400, code: "symlink_refused" });
    expect(await (await put(workspaceId, "x", Buffer.from("x"), 5)).json()).toMatchObject({ status: 409, code: "upload_offset_mismatch" });
    const bad = await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/x?offset=-1`, { raw: Buffer.from("x") });
    expect(bad.status).toBe(400);
  });
});
