/**
 * GET /v1/workspace/archive?path=: one directory of the caller's own workspace as a tar stream from
 * the real provisioner, every file's SHA-256 in the manifest at its end. Who may, which paths,
 * what the host refuses, and the command log (policy §1: the command, never a name).
 */
import { describe, expect, it } from "vitest";
import { PACK_MANIFEST } from "../contract/provisioner";
import { call, createUser, expectProblem } from "./harness";
import { commandsOf, connect, entitledUser, grantPlan, track } from "./provisioner-harness";
import { randomBytes, rawCall, sha256Hex, untar } from "./transfer-harness";

const put = (token: string, path: string, data: Uint8Array) =>
  rawCall("PUT", `/v1/workspace/files/${path}`, { token, body: data, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) } });

const pack = (token: string | undefined, path: string) => rawCall("GET", `/v1/workspace/archive?${new URLSearchParams({ path })}`, token === undefined ? {} : { token });

async function connected() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, session: session.json as { id: string; workspaceId: string } };
}

describe("a directory as one tar stream", () => {
  it("streams the directory under its own name with the manifest last, between sessions too, logged as a download", async () => {
    const { user, session } = await connected();
    const a = randomBytes(5000);
    const b = randomBytes(10);
    expect((await put(user.accessToken, "runs/one/a.bin", a)).status).toBe(201);
    expect((await put(user.accessToken, "runs/one/deep/b.bin", b)).status).toBe(201);
    expect((await put(user.accessToken, "runs/other.bin", b)).status).toBe(201);
    expect((await call("POST", `/v1/sessions/${session.id}/disconnect`, { token: user.accessToken })).status).toBe(200);

    const res = await pack(user.accessToken, "runs/one");
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/x-tar");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="one.tar"`);
    const entries = untar(res.bytes);
    expect([...entries.keys()].sort()).toEqual([PACK_MANIFEST, "one/", "one/a.bin", "one/deep/", "one/deep/b.bin"]);
    expect([...entries.keys()].at(-1)).toBe(PACK_MANIFEST);
    expect(entries.get("one/a.bin")).toEqual(a);
    const manifest = JSON.parse(new TextDecoder().decode(entries.get(PACK_MANIFEST))) as { files: { path: string }[] };
    expect(manifest.files.sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: "one/a.bin", size: a.length, sha256: await sha256Hex(a) },
      { path: "one/deep/b.bin", size: b.length, sha256: await sha256Hex(b) },
    ]);
    // An empty path is the root, named as the host's mount.
    const root = untar((await pack(user.accessToken, "")).bytes);
    expect([...root.keys()]).toEqual(expect.arrayContaining(["workspace/runs/other.bin", "workspace/runs/one/a.bin", PACK_MANIFEST]));
    const logged = (await commandsOf(user.id)).filter((c) => c.command === "download");
    expect(logged).toHaveLength(2);
    expect(JSON.stringify(logged)).not.toContain("runs");
  });

  it("answers 404 for a missing directory and 409 not_a_directory for a file", async () => {
    const { user } = await connected();
    expect((await put(user.accessToken, "plain.txt", new Uint8Array([1]))).status).toBe(201);
    expectProblem(await pack(user.accessToken, "missing"), 404, "not_found");
    expectProblem(await pack(user.accessToken, "plain.txt"), 409, "not_a_directory");
  });

  it.each([
    ["an absolute path", "/etc"],
    ["a traversal", "a/../../etc"],
    ["'..' alone", ".."],
    ["an empty segment", "a//b"],
    ["a backslash", "a\\..\\b"],
    ["a control character", "a\u0001b"],
    ["a NUL", "a\u0000b"],
  ])("refuses %s with 400 before the host", async (_label, path) => {
    const { user } = await connected();
    expectProblem(await pack(user.accessToken, path), 400, "validation_failed");
  });
});

describe("whose directory", () => {
  it("needs a sign-in and a workspace; a stranger's path is in their own workspace, never the owner's", async () => {
    const { user: owner } = await connected();
    expect((await put(owner.accessToken, "secret/mine.txt", new TextEncoder().encode("mine"))).status).toBe(201);
    expectProblem(await pack(undefined, "secret"), 401, "unauthorized");
    const stranger = track(await createUser());
    expectProblem(await pack(stranger.accessToken, "secret"), 404, "not_found");
    await grantPlan(stranger.id);
    expect((await connect(stranger)).status).toBe(201);
    expectProblem(await pack(stranger.accessToken, "secret"), 404, "not_found");
    const own = untar((await pack(stranger.accessToken, "")).bytes);
    expect([...own.keys()].some((name) => name.includes("mine.txt"))).toBe(false);
    expect(untar((await pack(owner.accessToken, "secret")).bytes).get("secret/mine.txt")).toEqual(new TextEncoder().encode("mine"));
  });
});
