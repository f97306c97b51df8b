/**
 * PUT /v1/workspace/archive?path=: many files in one tar stream, unpacked into a directory of the
 * caller's own workspace by the real provisioner. Who may, which paths, what the host refuses,
 * the limits, and the command log (policy §1: the command, never a name).
 */
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, testEnv } from "./harness";
import { commandsOf, connect, entitledUser, grantPlan, track } from "./provisioner-harness";
import { randomBytes, rawCall, sha256Hex, tarOf } from "./transfer-harness";

const unpack = (token: string, path: string | undefined, archive: Uint8Array, headers: Record<string, string> = {}) =>
  rawCall("PUT", `/v1/workspace/archive${path === undefined ? "" : `?${new URLSearchParams({ path })}`}`, {
    token,
    body: archive,
    headers: { "Content-Type": "application/x-tar", "Content-Length": String(archive.length), ...headers },
  });

async function connected() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, session: session.json as { id: string; workspaceId: string } };
}

describe("unpacking a tar into the workspace", () => {
  it("writes every file under the directory with its SHA-256, readable through the file routes, logged as one upload", async () => {
    const { user, session } = await connected();
    const a = randomBytes(5000);
    const b = randomBytes(10);
    const res = await unpack(user.accessToken, "runs/2026 é", tarOf([{ name: "a.bin", data: a }, { name: "deep/b.bin", data: b }]));
    expect(res.status, res.text).toBe(201);
    expect(res.json).toEqual({
      path: "runs/2026 é",
      entries: 2,
      bytes: a.length + b.length,
      files: [
        { path: "runs/2026 é/a.bin", size: a.length, sha256: await sha256Hex(a) },
        { path: "runs/2026 é/deep/b.bin", size: b.length, sha256: await sha256Hex(b) },
      ],
    });
    const back = await rawCall("GET", `/v1/workspace/files/runs/2026%20%C3%A9/deep/b.bin`, { token: user.accessToken });
    expect(await sha256Hex(back.bytes)).toBe(await sha256Hex(b));
    // Into the root without a path.
    expect((await unpack(user.accessToken, undefined, tarOf([{ name: "top.txt", data: new TextEncoder().encode("top") }]))).status).toBe(201);
    const logged = (await commandsOf(user.id)).filter((c) => c.command !== "connect");
    expect(logged.map((c) => [c.command, c.session_id])).toEqual([
      ["upload", session.id],
      ["download", session.id],
      ["upload", session.id],
    ]);
    expect(JSON.stringify(logged)).not.toContain("runs");
  });

  it.each([
    ["an absolute path", "/etc"],
    ["'..'", "a/../../b"],
    ["an empty segment", "a//b"],
    ["a control character", "a\u0001b"],
  ])("refuses %s in the directory with 400, before the host", async (_label, path) => {
    const { user } = await connected();
    const res = await unpack(user.accessToken, path, tarOf([{ name: "x", data: new Uint8Array([1]) }]));
    expectProblem(res, 400, "validation_failed");
  });

  it.each([
    ["a ../ entry", [{ name: "../evil", data: new Uint8Array([1]) }]],
    ["an absolute entry", [{ name: "/evil", data: new Uint8Array([1]) }]],
    ["a symlink out of the workspace", [{ name: "link", type: "symlink" as const, linkname: "../../../etc" }]],
    ["a device", [{ name: "dev", type: "char-device" as const }]],
  ])("refuses an archive with %s (400 validation_failed, the host's check)", async (_label, entries) => {
    const { user } = await connected();
    const res = await unpack(user.accessToken, "d", tarOf(entries));
    expectProblem(res, 400, "validation_failed");
    expect(JSON.stringify(res.json)).toContain("body");
  });

  it("needs a Content-Length (411), stays within the per-request limit (413), and 409s onto a file", async () => {
    const { user } = await connected();
    const archive = tarOf([{ name: "x", data: new Uint8Array([1]) }]);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(archive);
        controller.close();
      },
    });
    expectProblem(await rawCall("PUT", "/v1/workspace/archive", { token: user.accessToken, body: stream, headers: { "Content-Type": "application/x-tar" } }), 411, "length_required");
    const small = { ...testEnv(), WORKSPACE_FILE_MAX_BYTES: "1000" } as Cloudflare.Env;
    const tooBig = await rawCall("PUT", "/v1/workspace/archive?path=d", { token: user.accessToken, body: archive, headers: { "Content-Type": "application/x-tar", "Content-Length": String(archive.length) }, env: small });
    expectProblem(tooBig, 413, "payload_too_large");
    expect((await unpack(user.accessToken, undefined, tarOf([{ name: "plain", data: new Uint8Array([1]) }]))).status).toBe(201);
    expectProblem(await unpack(user.accessToken, "plain", archive), 409, "not_a_directory");
  });
});

describe("whose workspace", () => {
  it("needs a sign-in and a workspace; a stranger's archive lands in their own workspace, never the owner's", async () => {
    const { user: owner } = await connected();
    const archive = tarOf([{ name: "mine.txt", data: new TextEncoder().encode("stranger") }]);
    expectProblem(await rawCall("PUT", "/v1/workspace/archive", { body: archive, headers: { "Content-Length": String(archive.length) } }), 401, "unauthorized");
    const stranger = track(await createUser());
    expectProblem(await unpack(stranger.accessToken, "d", archive), 404, "not_found");
    await grantPlan(stranger.id);
    expect((await connect(stranger)).status).toBe(201);
    expect((await unpack(stranger.accessToken, "d", archive)).status).toBe(201);
    expectProblem(await call("GET", "/v1/workspace/files/d/mine.txt", { token: owner.accessToken }), 404, "not_found");
  });
});
