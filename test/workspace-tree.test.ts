/**
 * Listing and deleting in the workspace through the Worker against the real provisioner: pages in
 * name order, links reported and never followed, hostile paths, ownership, and names kept out of
 * every log (policy §3).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accessLogLines, call, createUser, expectProblem, randomId } from "./harness";
import { commandsOf, connect, entitledUser, grantPlan, track } from "./provisioner-harness";
import { rawCall } from "./transfer-harness";

const put = (token: string, path: string, text: string) => {
  const data = new TextEncoder().encode(text);
  return rawCall("PUT", `/v1/workspace/files/${path}`, { token, body: data, headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) } });
};
const tree = (token: string, path = "", query = "") => call("GET", `/v1/workspace/tree${path === "" ? "" : `/${path}`}${query}`, { token });
const remove = (token: string, path: string, query = "") => call("DELETE", `/v1/workspace/files/${path}${query}`, { token });

/** A connected user: a running session and a hot workspace. */
async function connected() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, session: session.json as { id: string; workspaceId: string } };
}

/** Runs `script` in the session's shell (as the user would) and waits for it to finish. */
async function inShell(token: string, sessionId: string, script: string) {
  const res = await rawCall("GET", `/v1/sessions/${sessionId}/shell`, { token, headers: { Upgrade: "websocket" } });
  expect(res.status, res.text).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  let output = "";
  // The echoed command line reads `"__""DONE__"`: only the command's own output matches.
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the shell did not finish: ${JSON.stringify(output)}`)), 15_000);
    ws.addEventListener("message", (event) => {
      output += typeof event.data === "string" ? event.data : decoder.decode(event.data as ArrayBuffer, { stream: true });
      if (/__DONE__/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  ws.send(new TextEncoder().encode(`${script}; echo "__""DONE__"\n`));
  await done;
  ws.close(1000);
}

const names = (json: { entries: { name: string }[] }) => json.entries.map((e) => e.name);

describe("GET /v1/workspace/tree[/{path}]", () => {
  it("lists the root and a directory in name order, a page at a time; a link is reported, never followed", async () => {
    const { user, session } = await connected();
    for (const path of ["notes.txt", "data/b.bin", "data/a%20b.txt", "data/c/deep.txt"]) expect((await put(user.accessToken, path, "12345")).status).toBe(201);
    await inShell(user.accessToken, session.id, "cd /workspace && ln -s /etc data/etc && ln -s notes.txt link");

    const root = await tree(user.accessToken);
    expect(root.status, root.text).toBe(200);
    expect(root.json).toMatchObject({ path: "", truncated: false, next: null });
    expect(names(root.json)).toEqual(expect.arrayContaining(["data", "link", "notes.txt"]));
    expect(root.json.entries.find((e: { name: string }) => e.name === "link")).toMatchObject({ type: "symlink", target: "/workspace/notes.txt", size: 0 });

    const data = await tree(user.accessToken, "data");
    expect(data.status, data.text).toBe(200);
    expect(data.json).toMatchObject({ path: "data", total: 4, truncated: false });
    expect(data.json.entries.map((e: { name: string; type: string }) => [e.name, e.type])).toEqual([
      ["a b.txt", "file"],
      ["b.bin", "file"],
      ["c", "dir"],
      ["etc", "symlink"],
    ]);
    expect(data.json.entries[0]).toMatchObject({ size: 5 });
    expect(Date.parse(data.json.entries[0].mtime)).not.toBeNaN();

    const first = await tree(user.accessToken, "data", "?limit=2");
    expect(first.json).toMatchObject({ total: 4, truncated: true, next: "b.bin" });
    expect(names(first.json)).toEqual(["a b.txt", "b.bin"]);
    const second = await tree(user.accessToken, "data", `?limit=2&after=${encodeURIComponent(first.json.next)}`);
    expect(second.json).toMatchObject({ truncated: false, next: null });
    expect(names(second.json)).toEqual(["c", "etc"]);
    expect(names((await tree(user.accessToken, "data/c")).json)).toEqual(["deep.txt"]);

    // A read: no command logged; and the names are in no log (policy §3).
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect", "upload", "upload", "upload", "upload"]);
    const logged = (await accessLogLines()).filter((r) => r.user_id === user.id && r.path.startsWith("/v1/workspace/tree"));
    expect(new Set(logged.map((r) => r.path))).toEqual(new Set(["/v1/workspace/tree", "/v1/workspace/tree/{path}"]));
    const errors = await env.DB.prepare("SELECT * FROM error_logs").all();
    expect(JSON.stringify(errors.results)).not.toMatch(/deep\.txt|a b\.txt|notes\.txt/);
  });

  it("works between sessions while the workspace is hot", async () => {
    const { user, session } = await connected();
    expect((await put(user.accessToken, "kept.txt", "x")).status).toBe(201);
    expect((await call("POST", `/v1/sessions/${session.id}/disconnect`, { token: user.accessToken })).status).toBe(200);
    expect(names((await tree(user.accessToken)).json)).toContain("kept.txt");
  });

  it("refuses a path through a link, a file, a missing directory, hostile paths and bad pages", async () => {
    const { user, session } = await connected();
    expect((await put(user.accessToken, "inner/file.txt", "x")).status).toBe(201);
    await inShell(user.accessToken, session.id, "cd /workspace && ln -s /etc etc && ln -s inner via");
    for (const path of ["etc", "etc/ssl", "via", "via/file.txt"]) expectProblem(await tree(user.accessToken, path), 400, "validation_failed");
    expectProblem(await tree(user.accessToken, "inner/file.txt"), 409, "not_a_directory");
    expectProblem(await tree(user.accessToken, "missing"), 404, "not_found");
    for (const path of ["%2E%2E%2Fetc", "a%2F..%2F..%2Fb", "%2Fetc", "a%00b", "a%5C..%5Cb", "a//b", "%E0%A4%A"]) {
      expectProblem(await tree(user.accessToken, path), 400, "validation_failed");
    }
    for (const query of ["?limit=0", "?limit=1001", "?limit=x", "?after=a%2Fb", "?after="]) {
      expectProblem(await tree(user.accessToken, "", query), 400, "validation_failed");
      expectProblem(await tree(user.accessToken, "inner", query), 400, "validation_failed");
    }
  });

  it("someone else's workspace cannot be listed: each user lists only their own", async () => {
    const { user: owner } = await connected();
    expect((await put(owner.accessToken, "secret.txt", "mine")).status).toBe(201);
    const stranger = track(await createUser());
    expectProblem(await tree(stranger.accessToken), 404, "not_found");
    expectProblem(await tree(stranger.accessToken, "anything"), 404, "not_found");
    await grantPlan(stranger.id);
    expect((await connect(stranger)).status).toBe(201);
    expect(names((await tree(stranger.accessToken)).json)).not.toContain("secret.txt");
    expectProblem(await call("GET", "/v1/workspace/tree", {}), 401, "unauthorized");
    expectProblem(await call("GET", "/v1/workspace/tree/x", {}), 401, "unauthorized");
  });
});

describe("DELETE /v1/workspace/files/{path}", () => {
  it("deletes a file, and a directory only with recursive=true; logged as delete, without the name", async () => {
    const { user, session } = await connected();
    const secret = `gone-${randomId()}.txt`;
    for (const path of [secret, "dir/x.txt", "dir/sub/y.txt"]) expect((await put(user.accessToken, path, "x")).status).toBe(201);

    const removed = await remove(user.accessToken, secret);
    expect(removed.status, removed.text).toBe(200);
    expect(removed.json).toEqual({ path: secret, type: "file" });
    expectProblem(await call("GET", `/v1/workspace/files/${secret}`, { token: user.accessToken }), 404, "not_found");
    expectProblem(await remove(user.accessToken, secret), 404, "not_found");

    expectProblem(await remove(user.accessToken, "dir"), 409, "directory_not_empty");
    expectProblem(await remove(user.accessToken, "dir", "?recursive=false"), 409, "directory_not_empty");
    expect((await call("GET", "/v1/workspace/files/dir/sub/y.txt", { token: user.accessToken })).status).toBe(200);
    expect((await remove(user.accessToken, "dir", "?recursive=true")).json).toEqual({ path: "dir", type: "dir" });
    expect(names((await tree(user.accessToken)).json)).not.toContain("dir");

    const deletes = (await commandsOf(user.id)).filter((c) => c.command === "delete");
    expect(deletes.map((c) => c.session_id)).toEqual([session.id, session.id, session.id, session.id, session.id]);
    const logged = (await accessLogLines()).filter((r) => r.user_id === user.id && r.method === "DELETE");
    expect(new Set(logged.map((r) => r.path))).toEqual(new Set(["/v1/workspace/files/{path}"]));
  });

  it("removes a link itself, never what it points to", async () => {
    const { user, session } = await connected();
    expect((await put(user.accessToken, "keep/precious.txt", "keep me")).status).toBe(201);
    await inShell(user.accessToken, session.id, "cd /workspace && ln -s keep link-dir && ln -s keep/precious.txt link-file && mkdir trash && ln -s ../keep trash/link");
    expect((await remove(user.accessToken, "link-dir", "?recursive=true")).json).toEqual({ path: "link-dir", type: "symlink" });
    expect((await remove(user.accessToken, "link-file")).json).toEqual({ path: "link-file", type: "symlink" });
    expect((await remove(user.accessToken, "trash", "?recursive=true")).json).toEqual({ path: "trash", type: "dir" });
    expect((await call("GET", "/v1/workspace/files/keep/precious.txt", { token: user.accessToken })).text).toBe("keep me");
    expect(names((await tree(user.accessToken)).json)).toEqual(expect.not.arrayContaining(["link-dir", "link-file", "trash"]));
  });

  it("never the root, never through a link, never a hostile path; someone else's files are out of reach", async () => {
    const { user, session } = await connected();
    expect((await put(user.accessToken, "inner/file.txt", "x")).status).toBe(201);
    await inShell(user.accessToken, session.id, "cd /workspace && ln -s inner via && ln -s / root");
    expect((await call("DELETE", "/v1/workspace/files/", { token: user.accessToken })).status).toBe(404);
    for (const path of ["via/file.txt", "root/etc/passwd", "root/workspace/inner/file.txt"]) expectProblem(await remove(user.accessToken, path, "?recursive=true"), 400, "validation_failed");
    for (const path of ["%2E%2E%2Fetc", "inner%2F..", "inner/%2E%2E%2F", "%2F", "a%00b", "a//b"]) expectProblem(await remove(user.accessToken, path, "?recursive=true"), 400, "validation_failed");
    expectProblem(await remove(user.accessToken, "inner", "?recursive=yes"), 400, "validation_failed");
    expect((await call("GET", "/v1/workspace/files/inner/file.txt", { token: user.accessToken })).status).toBe(200);

    const stranger = track(await createUser());
    expectProblem(await remove(stranger.accessToken, "inner/file.txt"), 404, "not_found");
    await grantPlan(stranger.id);
    expect((await connect(stranger)).status).toBe(201);
    expectProblem(await remove(stranger.accessToken, "inner/file.txt"), 404, "not_found");
    expect((await call("GET", "/v1/workspace/files/inner/file.txt", { token: user.accessToken })).status).toBe(200);
  });
});
