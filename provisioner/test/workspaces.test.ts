import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { dirname, join } from "node:path";
import tar from "tar-stream";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { workspaceVolumeName } from "../src/containers/spec.ts";
import { docker, execIn, listedWorkspace, startTestProvisioner, type TestProvisioner, sha256, startSession, tracker, } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const session = () => startSession(provisioner, made);

const put = (workspaceId: string, path: string, data: Uint8Array) =>
  provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/${path}`, { raw: data, headers: { "content-type": "application/octet-stream" } });
const get = (workspaceId: string, path: string) => provisioner.request("GET", `/v1/workspaces/${workspaceId}/files/${path}`);

async function tarOf(entries: { header: tar.Header | (Partial<tar.Header> & { name: string }); body?: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const { header, body } of entries) pack.entry(header, body ?? "");
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function tarNames(data: ArrayBuffer): Promise<Map<string, tar.Header>> {
  const extract = tar.extract();
  const headers = new Map<string, tar.Header>();
  const done = (async () => {
    for await (const entry of extract) {
      headers.set(entry.header.name, entry.header);
      entry.resume();
    }
  })();
  extract.end(Buffer.from(data));
  await done;
  return headers;
}

/** Tar entries no workspace accepts, by import or by unpack; each names "evil-escape" where it would land outside. */
const UNSAFE_ENTRIES: [string, { header: Partial<tar.Header> & { name: string }; body?: Buffer }[]][] = [
  ["a ../ entry", [{ header: { name: "../evil-escape", type: "file" as const }, body: Buffer.from("x") }]],
  ["a deep ../ entry", [{ header: { name: "ok/../../evil-escape", type: "file" as const }, body: Buffer.from("x") }]],
  ["an absolute entry", [{ header: { name: "/evil-escape", type: "file" as const }, body: Buffer.from("x") }]],
  ["a symlink to an absolute path", [{ header: { name: "link", type: "symlink" as const, linkname: "/etc" } }]],
  ["a symlink climbing out", [{ header: { name: "link", type: "symlink" as const, linkname: "../../.." } }]],
  [
    "a file written through one of its own symlinks",
    [
      { header: { name: "sub/", type: "directory" as const } },
      { header: { name: "link", type: "symlink" as const, linkname: "sub" } },
      { header: { name: "link/x", type: "file" as const }, body: Buffer.from("x") },
    ],
  ],
  ["a hard link to a file outside the archive", [{ header: { name: "hard", type: "link" as const, linkname: "../../../etc/passwd" } }]],
  ["a device node", [{ header: { name: "dev", type: "character-device" as const, devmajor: 1, devminor: 3 } }]],
];

describe("upload and download", () => {
  it("round-trips a binary file with its SHA-256, creating parent directories, and the container sees it", async () => {
    const { workspaceId, containerId } = await session();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const uploaded = await put(workspaceId, "data/sub/model.bin", data);
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toEqual({ path: "data/sub/model.bin", size: data.length, sha256: sha256(data) });

    const downloaded = await get(workspaceId, "data/sub/model.bin");
    expect(downloaded.status).toBe(200);
    expect(downloaded.headers.get("content-length")).toBe(String(data.length));
    const back = new Uint8Array(await downloaded.arrayBuffer());
    expect(sha256(back)).toBe(sha256(data));

    const checksum = await provisioner.request("GET", `/v1/workspaces/${workspaceId}/checksums/data/sub/model.bin`);
    expect(await checksum.json()).toEqual({ path: "data/sub/model.bin", size: data.length, sha256: sha256(data) });
    expect(await execIn(containerId, ["sha256sum", "/workspace/data/sub/model.bin"])).toContain(sha256(data));
  });

  it("gives what it writes to the workspace user, who can change it; an import's owners are not kept", async () => {
    const { workspaceId, containerId } = await session();
    expect((await put(workspaceId, "dir/a.txt", Buffer.from("one"))).status).toBe(201);
    const archive = await tarOf([{ header: { name: "root.txt", uid: 0, gid: 0 }, body: Buffer.from("root's?") }]);
    expect((await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/archive`, { raw: archive })).status).toBe(200);
    expect(await execIn(containerId, ["stat", "-c", "%u:%g %n", "/workspace/dir", "/workspace/dir/a.txt", "/workspace/root.txt"])).toBe(
      "1000:1000 /workspace/dir\r\n1000:1000 /workspace/dir/a.txt\r\n1000:1000 /workspace/root.txt\r\n",
    );
    expect(await execIn(containerId, ["sh", "-c", "echo -n ' two' >> /workspace/dir/a.txt && rm /workspace/root.txt && echo changed"])).toContain("changed");
    // An append through the API writes as that user too.
    expect((await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/dir/a.txt?offset=7`, { raw: Buffer.from(" three") })).status).toBe(201);
    expect(await (await get(workspaceId, "dir/a.txt")).text()).toBe("one two three");
  });

  it("streams a 64 MiB file both ways without holding it (SHA-256 checked end to end)", async () => {
    const { workspaceId } = await session();
    const chunk = randomBytes(1024 * 1024);
    const hash = createHash("sha256");
    for (let i = 0; i < 64; i++) hash.update(chunk);
    const expected = hash.digest("hex");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ === 64) return controller.close();
        controller.enqueue(chunk);
      },
    });
    const uploaded = await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/big.bin`, {
      raw: body,
      duplex: true,
      headers: { "content-length": String(64 * 1024 * 1024) },
    });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toMatchObject({ size: 64 * 1024 * 1024, sha256: expected });

    const downloaded = await get(workspaceId, "big.bin");
    const received = createHash("sha256");
    let size = 0;
    for await (const part of downloaded.body as unknown as AsyncIterable<Uint8Array>) {
      size += part.length;
      received.update(part);
    }
    expect(size).toBe(64 * 1024 * 1024);
    expect(received.digest("hex")).toBe(expected);
  });

  it("overwrites a file and keeps names with spaces and non-ASCII characters", async () => {
    const { workspaceId } = await session();
    const path = "notes/my%20file%20%C3%A9.txt";
    expect((await put(workspaceId, path, Buffer.from("first"))).status).toBe(201);
    expect((await put(workspaceId, path, Buffer.from("second, longer"))).status).toBe(201);
    expect(await (await get(workspaceId, path)).text()).toBe("second, longer");
    expect((await (await put(workspaceId, "empty", Buffer.alloc(0))).json()) as object).toMatchObject({ size: 0 });
    expect(await (await get(workspaceId, "empty")).text()).toBe("");
  });

  it("works while no container runs (stopped session)", async () => {
    const { workspaceId, sessionId } = await session();
    expect((await provisioner.request("POST", `/v1/containers/${sessionId}/stop`)).status).toBe(200);
    expect((await put(workspaceId, "a.txt", Buffer.from("hello"))).status).toBe(201);
    expect(await (await get(workspaceId, "a.txt")).text()).toBe("hello");
  });

  it("answers 404 for a missing file or workspace, 409 for a directory, 411 without Content-Length", async () => {
    const { workspaceId } = await session();
    expect((await put(workspaceId, "dir/file", Buffer.from("x"))).status).toBe(201);
    expect(await (await get(workspaceId, "nope")).json()).toMatchObject({ status: 404, code: "file_not_found" });
    expect(await (await get(workspaceId, "dir")).json()).toMatchObject({ status: 409, code: "not_a_file" });
    expect(await (await put(workspaceId, "dir", Buffer.from("x"))).json()).toMatchObject({ status: 409, code: "not_a_file" });
    expect(await (await put(workspaceId, "dir/file/under-a-file", Buffer.from("x"))).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await (await get("t-no-such-workspace", "a")).json()).toMatchObject({ status: 404, code: "workspace_not_found" });
    const chunked = await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/files/chunked`, {
      raw: new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array([1, 2, 3]));
          controller.close();
        },
      }),
      duplex: true,
    });
    expect(chunked.status).toBe(411);
  });
});

describe("hostile paths are refused, links never followed", () => {
  it.each([
    ["..%2F..%2Fetc%2Fpasswd"],
    ["%2Fetc%2Fpasswd"],
    ["a%2F..%2F..%2Fb"],
    ["a%00b"],
    ["a%5C..%5Cb"],
    ["a//b"],
    ["%2E%2E%2Fx"],
  ])("refuses %s with 400 for upload, download and checksum", async (path) => {
    const { workspaceId } = await session();
    expect(await (await get(workspaceId, path)).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await (await put(workspaceId, path, Buffer.from("x"))).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect((await provisioner.request("GET", `/v1/workspaces/${workspaceId}/checksums/${path}`)).status).toBe(400);
  });

  it("a literal ../ in the request line never reaches a file (the URL is normalised, the token no longer matches)", async () => {
    const { workspaceId } = await session();
    const rawPath = `/v1/workspaces/${workspaceId}/files/../../../../etc/passwd`;
    for (const signedFor of [rawPath, new URL(rawPath, "http://x").pathname]) {
      const token = await provisioner.token("GET", signedFor);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port: provisioner.address.port, path: rawPath, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
      expect([400, 401, 404]).toContain(status);
    }
  });

  it("refuses to download a symlink made inside the container, wherever it points, and to write through one", async () => {
    const { workspaceId, containerId } = await session();
    await execIn(containerId, [
      "sh",
      "-c",
      "mkdir -p /workspace/data && echo inside > /workspace/data/x && ln -s /etc/passwd /workspace/evil && ln -s /etc /workspace/etcdir && ln -s data /workspace/inside",
    ]);
    for (const path of ["evil", "etcdir/passwd", "etcdir", "inside/x"]) {
      expect(await (await get(workspaceId, path)).json(), path).toMatchObject({ status: 400, code: "symlink_refused" });
      expect((await provisioner.request("GET", `/v1/workspaces/${workspaceId}/checksums/${path}`)).status, path).toBe(400);
    }
    expect(await (await put(workspaceId, "etcdir/owned", Buffer.from("x"))).json()).toMatchObject({ status: 400, code: "symlink_refused" });
    expect(await (await put(workspaceId, "evil", Buffer.from("x"))).json()).toMatchObject({ status: 400, code: "symlink_refused" });
    expect(await execIn(containerId, ["sh", "-c", "ls /etc/owned 2>&1; readlink /workspace/evil"])).toMatch(/No such file[\s\S]*\/etc\/passwd/);
    // The real file behind the inside link is still reachable by its own path.
    expect(await (await get(workspaceId, "data/x")).text()).toBe("inside\n");
  });
});

describe("whole-workspace archive", () => {
  it("exports a workspace as tar and imports it into another one, files, directories and links alike", async () => {
    const { workspaceId, containerId } = await session();
    const a = randomBytes(100_000);
    expect((await put(workspaceId, "src/a.bin", a)).status).toBe(201);
    expect((await put(workspaceId, "README", Buffer.from("hi\n"))).status).toBe(201);
    await execIn(containerId, ["sh", "-c", "mkdir /workspace/empty && ln -s src/a.bin /workspace/link-to-a"]);

    const exported = await provisioner.request("GET", `/v1/workspaces/${workspaceId}/archive`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-type")).toBe("application/x-tar");
    const archive = await exported.arrayBuffer();
    const names = await tarNames(archive);
    expect([...names.keys()].sort()).toEqual(["./", "./README", "./empty/", "./link-to-a", "./src/", "./src/a.bin"]);
    expect(names.get("./link-to-a")).toMatchObject({ type: "symlink", linkname: "src/a.bin" });

    const target = made.workspace();
    const imported = await provisioner.request("PUT", `/v1/workspaces/${target}/archive`, { raw: Buffer.from(archive) });
    expect(imported.status).toBe(200);
    expect(await imported.json()).toMatchObject({ workspaceId: target, entries: 5, bytes: a.length + 3 });
    expect(sha256(new Uint8Array(await (await get(target, "src/a.bin")).arrayBuffer()))).toBe(sha256(a));
    const again = await tarNames(await (await provisioner.request("GET", `/v1/workspaces/${target}/archive`)).arrayBuffer());
    expect([...again.keys()].sort()).toEqual([...names.keys()].sort());
    expect(again.get("./link-to-a")).toMatchObject({ type: "symlink", linkname: "src/a.bin" });
    // A link stays a link: downloading through it is refused in the new workspace too.
    expect((await get(target, "link-to-a")).status).toBe(400);
  });

  it.each(UNSAFE_ENTRIES)("refuses an import with %s, and nothing lands next to the volume", async (_label, entries) => {
    const workspaceId = made.workspace();
    const response = await provisioner.request("PUT", `/v1/workspaces/${workspaceId}/archive`, { raw: await tarOf(entries) });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "unsafe_archive" });
    const { Mountpoint } = await docker.getVolume(workspaceVolumeName(workspaceId)).inspect();
    expect(existsSync(join(dirname(Mountpoint), "evil-escape"))).toBe(false);
    expect(existsSync(join(dirname(dirname(Mountpoint)), "evil-escape"))).toBe(false);
    expect(existsSync("/evil-escape")).toBe(false);
  });

  it("refuses a body that is not a tar archive", async () => {
    const response = await provisioner.request("PUT", `/v1/workspaces/${made.workspace()}/archive`, { raw: randomBytes(2048) });
    expect(response.status).toBe(400);
  });
});

describe("unpack: a tar of many files into a directory", () => {
  const unpack = async (workspaceId: string, path: string, archive: Buffer) =>
    provisioner.request("PUT", `/v1/workspaces/${workspaceId}/unpack${path === "" ? "" : `/${path}`}`, { raw: archive });

  it("unpacks into a directory it makes, everything the workspace user's, and answers each file's SHA-256", async () => {
    const { workspaceId, containerId } = await session();
    const a = randomBytes(70_000);
    const b = Buffer.from("#!/bin/sh\necho hi\n");
    const archive = await tarOf([
      { header: { name: "src/", type: "directory", mode: 0o755 } },
      { header: { name: "src/a.bin", type: "file", mode: 0o644, uid: 0, gid: 0 }, body: a },
      { header: { name: "run.sh", type: "file", mode: 0o4755 }, body: b },
      { header: { name: "empty", type: "file" }, body: Buffer.alloc(0) },
      // No directory entries for these: their parents are looked up while the extraction runs.
      { header: { name: "loose/deep/c.txt", type: "file" }, body: Buffer.from("c") },
      { header: { name: "other/d.txt", type: "file" }, body: Buffer.from("d") },
    ]);
    const response = await unpack(workspaceId, "proj/new", archive);
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { path: string; entries: number; bytes: number; files: { path: string; size: number; sha256: string }[] };
    expect(answer).toMatchObject({ path: "proj/new", entries: 6, bytes: a.length + b.length + 2 });
    expect(answer.files).toEqual([
      { path: "proj/new/src/a.bin", size: a.length, sha256: sha256(a) },
      { path: "proj/new/run.sh", size: b.length, sha256: sha256(b) },
      { path: "proj/new/empty", size: 0, sha256: sha256(new Uint8Array()) },
      { path: "proj/new/loose/deep/c.txt", size: 1, sha256: sha256(Buffer.from("c")) },
      { path: "proj/new/other/d.txt", size: 1, sha256: sha256(Buffer.from("d")) },
    ]);
    // Owners and modes as the session sees them: the user's, setuid dropped, the made parents too.
    const listed = await execIn(containerId, ["stat", "-c", "%u %a %n", "/workspace/proj", "/workspace/proj/new", "/workspace/proj/new/src/a.bin", "/workspace/proj/new/run.sh", "/workspace/proj/new/loose/deep"]);
    expect(listed.trim().split(/\r?\n/)).toEqual([
      "1000 755 /workspace/proj",
      "1000 755 /workspace/proj/new",
      "1000 644 /workspace/proj/new/src/a.bin",
      "1000 755 /workspace/proj/new/run.sh",
      "1000 755 /workspace/proj/new/loose/deep",
    ]);
    // Into the root, and over files already there.
    expect((await unpack(workspaceId, "", await tarOf([{ header: { name: "top.txt", type: "file" }, body: Buffer.from("top") }]))).status).toBe(201);
    expect(await (await get(workspaceId, "top.txt")).text()).toBe("top");
  });

  it.each(UNSAFE_ENTRIES)("refuses an unpack with %s, and nothing lands outside the directory's workspace", async (_label, entries) => {
    const { workspaceId } = await session();
    const response = await unpack(workspaceId, "d", await tarOf(entries));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "unsafe_archive" });
    const { Mountpoint } = await docker.getVolume(workspaceVolumeName(workspaceId)).inspect();
    expect(existsSync(join(dirname(Mountpoint), "evil-escape"))).toBe(false);
    expect(existsSync("/evil-escape")).toBe(false);
  });

  it("refuses to unpack through a symbolic link the workspace has, into a link, or into a file", async () => {
    const { workspaceId, containerId } = await session();
    await execIn(containerId, ["sh", "-c", "mkdir -p /workspace/d && ln -s /etc /workspace/d/esc && ln -s /etc /workspace/top-link && echo x > /workspace/file"]);
    const through = await unpack(workspaceId, "d", await tarOf([{ header: { name: "esc/evil-escape", type: "file" }, body: Buffer.from("x") }]));
    expect(await through.json()).toMatchObject({ status: 400, code: "unsafe_archive" });
    const into = await unpack(workspaceId, "top-link", await tarOf([{ header: { name: "evil-escape", type: "file" }, body: Buffer.from("x") }]));
    expect(await into.json()).toMatchObject({ status: 400, code: "symlink_refused" });
    const ontoFile = await unpack(workspaceId, "file", await tarOf([{ header: { name: "x", type: "file" }, body: Buffer.from("x") }]));
    expect(await ontoFile.json()).toMatchObject({ status: 409, code: "not_a_directory" });
    expect(existsSync("/etc/evil-escape")).toBe(false);
    expect(await execIn(containerId, ["sh", "-c", "ls /etc/evil-escape 2>&1; true"])).toMatch(/No such file/);
  });

  it("refuses a path the file routes refuse and a workspace that is not there", async () => {
    const { workspaceId } = await session();
    const archive = await tarOf([{ header: { name: "x", type: "file" }, body: Buffer.from("x") }]);
    // (A "%2E%2E" would be resolved away by the URL parser before it is sent: the Worker refuses '..' itself.)
    expect(await (await unpack(workspaceId, "a%5C..%5Cb", archive)).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await (await unpack(workspaceId, "a%00b", archive)).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await (await unpack(made.workspace(), "d", archive)).json()).toMatchObject({ status: 404, code: "workspace_not_found" });
  });
});

describe("pack: a directory as one tar stream with its files' SHA-256 last", () => {
  const pack = (workspaceId: string, path: string) => provisioner.request("GET", `/v1/workspaces/${workspaceId}/pack${path === "" ? "" : `/${path}`}`);

  /** Every entry of the tar in order, with the bytes of each file. */
  async function entriesOf(data: ArrayBuffer) {
    const extract = tar.extract();
    const entries: { header: tar.Header; body: Buffer }[] = [];
    const done = (async () => {
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const chunk of entry) chunks.push(chunk as Buffer);
        entries.push({ header: entry.header, body: Buffer.concat(chunks) });
      }
    })();
    extract.end(Buffer.from(data));
    await done;
    return entries;
  }

  it("streams the directory as docker cp names it: files, empty directories, links and pipes as entries, then the manifest of every file", async () => {
    const { workspaceId, containerId } = await session();
    const a = randomBytes(300_000);
    expect((await put(workspaceId, "proj/src/a.bin", a)).status).toBe(201);
    await execIn(containerId, [
      "sh",
      "-c",
      "cd /workspace/proj && mkdir empty && echo -n b > b.txt && ln b.txt hard.txt && ln -s /etc/passwd out-link && mkfifo pipe && echo -n outside > /workspace/not-in-it",
    ]);
    const response = await pack(workspaceId, "proj");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/x-tar");
    const entries = await entriesOf(await response.arrayBuffer());
    const byName = new Map(entries.map((entry) => [entry.header.name, entry]));
    expect([...byName.keys()].sort()).toEqual([".ozekai-manifest.json", "proj/", "proj/b.txt", "proj/empty/", "proj/hard.txt", "proj/out-link", "proj/pipe", "proj/src/", "proj/src/a.bin"]);
    expect(entries.at(-1)?.header.name).toBe(".ozekai-manifest.json");
    expect(byName.get("proj/out-link")?.header).toMatchObject({ type: "symlink", linkname: "/etc/passwd", size: 0 });
    expect(byName.get("proj/pipe")?.header).toMatchObject({ type: "fifo", size: 0 });
    expect(byName.get("proj/hard.txt")?.header).toMatchObject({ type: "link", linkname: "proj/b.txt" });
    expect(sha256(byName.get("proj/src/a.bin")!.body)).toBe(sha256(a));
    const manifest = JSON.parse(byName.get(".ozekai-manifest.json")!.body.toString("utf8")) as { files: { path: string; size: number; sha256: string }[] };
    expect(manifest.files.sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: "proj/b.txt", size: 1, sha256: sha256(Buffer.from("b")) },
      { path: "proj/hard.txt", size: 1, sha256: sha256(Buffer.from("b")) },
      { path: "proj/src/a.bin", size: a.length, sha256: sha256(a) },
    ]);
    // The root is a directory like any other, named as Docker names the mount.
    const root = await entriesOf(await (await pack(workspaceId, "")).arrayBuffer());
    expect(root.map((entry) => entry.header.name)).toEqual(expect.arrayContaining(["workspace/", "workspace/not-in-it", "workspace/proj/src/a.bin"]));
    expect(root.at(-1)?.header.name).toBe(".ozekai-manifest.json");
  });

  it("refuses a file, a missing directory, a path through a link and a hostile path", async () => {
    const { workspaceId, containerId } = await session();
    await execIn(containerId, ["sh", "-c", "mkdir -p /workspace/d && echo x > /workspace/d/file && ln -s /etc /workspace/etc-link"]);
    expect(await (await pack(workspaceId, "d/file")).json()).toMatchObject({ status: 409, code: "not_a_directory" });
    expect(await (await pack(workspaceId, "d/missing")).json()).toMatchObject({ status: 404, code: "file_not_found" });
    expect(await (await pack(workspaceId, "etc-link")).json()).toMatchObject({ status: 400, code: "symlink_refused" });
    expect(await (await pack(workspaceId, "etc-link/ssl")).json()).toMatchObject({ status: 400, code: "symlink_refused" });
    expect(await (await pack(workspaceId, "a%00b")).json()).toMatchObject({ status: 400, code: "invalid_path" });
    expect(await (await pack(made.workspace(), "d")).json()).toMatchObject({ status: 404, code: "workspace_not_found" });
  });
});

describe("workspace size and deletion", () => {
  it("lists every workspace with its size in one answer, refuses deletion while a container mounts it, then deletes it", async () => {
    const { workspaceId, sessionId } = await session();
    const other = await session();
    expect((await put(workspaceId, "blob", randomBytes(2 * 1024 * 1024))).status).toBe(201);
    expect((await listedWorkspace(provisioner, workspaceId))?.sizeBytes).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect((await listedWorkspace(provisioner, other.workspaceId))?.sizeBytes).toBeLessThan(1024 * 1024);

    const refused = await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}`);
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: "workspace_in_use" });

    expect((await provisioner.request("DELETE", `/v1/containers/${sessionId}`)).status).toBe(204);
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}`)).status).toBe(204);
    expect(await listedWorkspace(provisioner, workspaceId)).toBeUndefined();
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}`)).status).toBe(404);
  });

  it("leaves no transfer helper container behind", async () => {
    const { workspaceId } = await session();
    await put(workspaceId, "a", Buffer.from("a"));
    await (await get(workspaceId, "a")).arrayBuffer();
    await (await provisioner.request("GET", `/v1/workspaces/${workspaceId}/archive`)).arrayBuffer();
    await (await get(workspaceId, "missing")).arrayBuffer();
    // Releases are asynchronous to the response: give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await docker.listContainers({ all: true, filters: { label: [`ozekai.helper=${workspaceId}`] } })).toEqual([]);
  });
});
