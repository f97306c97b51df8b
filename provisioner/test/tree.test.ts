/** Directory listings and removals in a workspace, against the real Docker engine. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DirectoryListing, TREE_MAX_LIMIT } from "../../contract/provisioner.ts";
import { workspaceVolumeName } from "../src/containers/spec.ts";
import { docker, execIn, startSession, startTestProvisioner, type TestProvisioner, tracker } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();

beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(() => provisioner.close());

const session = () => startSession(provisioner, made);
const sh = (containerId: string, script: string) => execIn(containerId, ["sh", "-c", script]);

const tree = (workspaceId: string, path = "", query = "") => provisioner.request("GET", `/v1/workspaces/${workspaceId}/tree${path === "" ? "" : `/${path}`}${query}`);
const listing = async (workspaceId: string, path = "", query = "") => {
  const response = await tree(workspaceId, path, query);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as DirectoryListing;
};
const remove = (workspaceId: string, path: string, query = "") => provisioner.request("DELETE", `/v1/workspaces/${workspaceId}/files/${path}${query}`);
const exists = async (containerId: string, path: string) => (await sh(containerId, `[ -e '${path}' ] || [ -L '${path}' ] && echo yes || echo no`)).trim() === "yes";

/** Only the session's container mounts the workspace once a request is done: its helper is removed. */
async function expectNoHelperLeft(workspaceId: string, containerId: string) {
  const users = await docker.listContainers({ all: true, filters: { volume: [workspaceVolumeName(workspaceId)] } });
  expect(users.map((c) => c.Id)).toEqual([containerId]);
}

describe("GET /v1/workspaces/{id}/tree", () => {
  it("lists names, types, sizes and times in name order; a link is reported, never followed", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir -p dir/sub && printf 12345 > dir/a.txt && : > 'dir/b c' && ln -s /etc dir/etc-link && ln -s a.txt dir/rel-link && mkfifo dir/pipe && touch -t 203001020304.05 dir/a.txt");
    const dir = await listing(workspaceId, "dir");
    expect(dir).toMatchObject({ path: "dir", total: 6, truncated: false, next: null });
    expect(dir.entries.map((e) => [e.name, e.type])).toEqual([
      ["a.txt", "file"],
      ["b c", "file"],
      ["etc-link", "symlink"],
      ["pipe", "other"],
      ["rel-link", "symlink"],
      ["sub", "dir"],
    ]);
    const byName = new Map(dir.entries.map((e) => [e.name, e]));
    expect(byName.get("a.txt")).toMatchObject({ size: 5, mtime: "2030-01-02T03:04:05.000Z" });
    expect(byName.get("a.txt")).not.toHaveProperty("target");
    expect(byName.get("etc-link")).toMatchObject({ size: 0, target: "/etc" });
    expect(byName.get("rel-link")).toMatchObject({ target: "/workspace/dir/a.txt" });
    expect(byName.get("sub")).toMatchObject({ size: 0 });

    // The root: the workspace's own entries (the image's home is not copied in: NoCopy).
    expect((await listing(workspaceId)).entries.map((e) => e.name)).toContain("dir");
    expect((await listing(workspaceId, "dir/sub")).entries).toEqual([]);
    await expectNoHelperLeft(workspaceId, containerId);
  });

  it("refuses to list through a link, wherever it points, and every escape attempt", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir inner && : > inner/secret && ln -s /etc etc && ln -s inner inner-link && ln -s .. up && : > file");
    for (const path of ["etc", "inner-link", "up", "etc/ssl", "inner-link/x"]) {
      expect(await (await tree(workspaceId, path)).json(), path).toMatchObject({ status: 400, code: "symlink_refused" });
    }
    // Literal dot segments never arrive: URLs are normalised, and the token then no longer matches
    // (workspaces.test.ts). Encoded ones are decoded one segment at a time and refused.
    for (const path of ["..%2F..%2Fetc", "%2E%2E%2Fx", "inner%2F..%2F..", "inner%2F%2E%2E", "a//b", "%00", "a%5C..%5Cb", "%2Fetc"]) {
      expect(await (await tree(workspaceId, path)).json(), path).toMatchObject({ status: 400, code: "invalid_path" });
    }
    expect(await (await tree(workspaceId, "missing")).json()).toMatchObject({ status: 404, code: "file_not_found" });
    expect(await (await tree(workspaceId, "file")).json()).toMatchObject({ status: 409, code: "not_a_directory" });
    expect(await (await provisioner.request("GET", "/v1/workspaces/t-w-none/tree")).json()).toMatchObject({ status: 404, code: "workspace_not_found" });
    for (const query of ["?limit=0", `?limit=${TREE_MAX_LIMIT + 1}`, "?limit=x", "?after=a/b", "?after="]) {
      expect(await (await tree(workspaceId, "", query)).json(), query).toMatchObject({ status: 400, code: "validation_failed" });
    }
  });

  it("a huge directory comes a bounded page at a time, every entry exactly once", async () => {
    const { workspaceId, containerId } = await session();
    const count = 2500;
    await sh(containerId, `mkdir /workspace/big && cd /workspace/big && i=0; while [ $i -lt ${count} ]; do : > "f$i"; i=$((i+1)); done`);
    const first = await listing(workspaceId, "big");
    expect(first).toMatchObject({ total: count, truncated: true });
    expect(first.entries).toHaveLength(200); // the default page
    const seen: string[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: DirectoryListing = await listing(workspaceId, "big", `?limit=${TREE_MAX_LIMIT}${after === null ? "" : `&after=${encodeURIComponent(after)}`}`);
      expect(page.entries.length).toBeLessThanOrEqual(TREE_MAX_LIMIT);
      seen.push(...page.entries.map((e) => e.name));
      if (!page.truncated) {
        expect(page.next).toBeNull();
        break;
      }
      expect(page.next).toBe(page.entries.at(-1)?.name);
      after = page.next;
    }
    expect(seen).toHaveLength(count);
    expect(new Set(seen).size).toBe(count);
    expect([...seen].sort()).toEqual(seen);
  });
});

describe("DELETE /v1/workspaces/{id}/files/{path}", () => {
  it("removes a file, an empty directory, and a directory recursively only when asked", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir -p empty full/deep && : > file && : > full/deep/x");
    const file = await remove(workspaceId, "file");
    expect(file.status).toBe(200);
    expect(await file.json()).toEqual({ path: "file", type: "file" });
    expect(await exists(containerId, "/workspace/file")).toBe(false);

    expect(await (await remove(workspaceId, "empty")).json()).toEqual({ path: "empty", type: "dir" });
    expect(await (await remove(workspaceId, "full")).json()).toMatchObject({ status: 409, code: "directory_not_empty" });
    expect(await exists(containerId, "/workspace/full/deep/x")).toBe(true);
    expect(await (await remove(workspaceId, "full", "?recursive=1")).json()).toEqual({ path: "full", type: "dir" });
    expect(await exists(containerId, "/workspace/full")).toBe(false);
    expect(await (await remove(workspaceId, "full")).json()).toMatchObject({ status: 404, code: "file_not_found" });
    await expectNoHelperLeft(workspaceId, containerId);
  });

  it("removes a link itself, never its target, and never follows a link inside a directory it removes", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir keep gone && : > keep/precious && ln -s keep link-dir && ln -s keep/precious link-file && ln -s ../keep gone/link && ln -s /etc abs");
    expect(await (await remove(workspaceId, "link-dir", "?recursive=1")).json()).toEqual({ path: "link-dir", type: "symlink" });
    expect(await (await remove(workspaceId, "link-file")).json()).toEqual({ path: "link-file", type: "symlink" });
    expect(await (await remove(workspaceId, "abs")).json()).toEqual({ path: "abs", type: "symlink" });
    expect(await (await remove(workspaceId, "gone", "?recursive=1")).json()).toEqual({ path: "gone", type: "dir" });
    for (const path of ["/workspace/link-dir", "/workspace/link-file", "/workspace/abs", "/workspace/gone"]) expect(await exists(containerId, path), path).toBe(false);
    expect(await exists(containerId, "/workspace/keep/precious")).toBe(true);
  });

  it("refuses a path through a link, the workspace root and every escape attempt", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir inner && : > inner/x && ln -s inner via && ln -s / root");
    for (const path of ["via/x", "root/etc/passwd", "root/workspace/inner/x"]) {
      expect(await (await remove(workspaceId, path)).json(), path).toMatchObject({ status: 400, code: "symlink_refused" });
    }
    for (const path of ["..%2F..%2Fetc", "%2E%2E%2Fx", "inner%2F..%2F..", "inner%2F%2E%2E", "a//b", "%00", "a%5C..%5Cb", "%2F"]) {
      expect(await (await remove(workspaceId, path, "?recursive=1")).json(), path).toMatchObject({ status: 400, code: "invalid_path" });
    }
    expect((await provisioner.request("DELETE", `/v1/workspaces/${workspaceId}/files/`)).status).toBe(400);
    expect(await (await remove(workspaceId, "inner", "?recursive=yes")).json()).toMatchObject({ status: 400, code: "validation_failed" });
    expect(await exists(containerId, "/workspace/inner/x")).toBe(true);
  });

  it("says so when the workspace's permissions keep its user from removing a file or reading a directory", async () => {
    const { workspaceId, containerId } = await session();
    await sh(containerId, "cd /workspace && mkdir locked && : > locked/x && chmod 555 locked");
    expect(await (await remove(workspaceId, "locked/x")).json()).toMatchObject({ status: 403, code: "permission_denied" });
    expect(await exists(containerId, "/workspace/locked/x")).toBe(true);
    await sh(containerId, "chmod 755 /workspace/locked");
    await sh(containerId, "mkdir /workspace/closed && : > /workspace/closed/y && chmod 000 /workspace/closed");
    expect(await (await tree(workspaceId, "closed")).json()).toMatchObject({ status: 403, code: "permission_denied" });
    await sh(containerId, "chmod 755 /workspace/closed");
  });
});
