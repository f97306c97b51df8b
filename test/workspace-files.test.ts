/**
 * Workspace files and the archive through the Worker against the real provisioner: streamed
 * upload and download with a SHA-256 the client can check, resumable in chunks (Range, ?offset=),
 * hostile paths, the per-file limit, ownership, and the command log (policy §1).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, randomId, testEnv } from "./harness";
import { commandsOf, connect, entitledUser, grantPlan, track } from "./provisioner-harness";
import { randomBytes, rawCall, sha256Hex, untar } from "./transfer-harness";

const put = (token: string, path: string, data: Uint8Array, options: { offset?: number; env?: Cloudflare.Env } = {}) =>
  rawCall("PUT", `/v1/workspace/files/${path}${options.offset === undefined ? "" : `?offset=${options.offset}`}`, {
    token,
    body: data,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(data.length) },
    env: options.env,
  });
const get = (token: string, path: string, headers: Record<string, string> = {}) => rawCall("GET", `/v1/workspace/files/${path}`, { token, headers });

/** A connected user: a running session and a hot workspace. */
async function connected() {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  return { user, session: session.json as { id: string; workspaceId: string } };
}

describe("upload and download", () => {
  it("round-trips a binary file with its SHA-256, logging upload and download with the session", async () => {
    const { user, session } = await connected();
    const data = randomBytes(1024 * 1024 + 123);
    const sha = await sha256Hex(data);
    const path = "models/weights%20%C3%A9.bin";

    const up = await put(user.accessToken, path, data);
    expect(up.status, up.text).toBe(201);
    expect(up.json).toEqual({ path: "models/weights é.bin", size: data.length, sha256: sha });
    expect(up.headers.get("Ozekai-Sha256")).toBe(sha);

    const down = await get(user.accessToken, path, { "Want-Repr-Digest": "sha-256=10" });
    expect(down.status).toBe(200);
    expect(down.headers.get("Content-Length")).toBe(String(data.length));
    expect(down.headers.get("Accept-Ranges")).toBe("bytes");
    expect(await sha256Hex(down.bytes)).toBe(sha);
    expect(down.headers.get("Ozekai-Sha256")).toBe(sha);
    expect(down.headers.get("Repr-Digest")).toBe(`sha-256=:${btoa(String.fromCharCode(...(sha.match(/../g) ?? []).map((h) => Number.parseInt(h, 16))))}:`);

    // No digest unless asked for: hashing reads the whole file on the host.
    expect((await get(user.accessToken, path)).headers.get("Repr-Digest")).toBeNull();

    const logged = (await commandsOf(user.id)).filter((c) => c.command !== "connect");
    expect(logged.map((c) => [c.command, c.session_id])).toEqual([
      ["upload", session.id],
      ["download", session.id],
      ["download", session.id],
    ]);
    // The log keeps the command, never the file's name.
    expect(JSON.stringify(logged)).not.toContain("weights");
  });

  it("HEAD gives the size and, when asked, the digest, without the bytes and without a log row", async () => {
    const { user } = await connected();
    const data = randomBytes(5000);
    expect((await put(user.accessToken, "a.bin", data)).status).toBe(201);
    const head = await rawCall("HEAD", "/v1/workspace/files/a.bin", { token: user.accessToken, headers: { "Want-Repr-Digest": "sha-256" } });
    expect(head.status).toBe(200);
    expect(head.bytes.length).toBe(0);
    expect(head.headers.get("Content-Length")).toBe("5000");
    expect(head.headers.get("Ozekai-Sha256")).toBe(await sha256Hex(data));
    expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect", "upload"]);
  });

  it("works between sessions (the workspace is hot), logged without a session; each transfer is use of the workspace", async () => {
    const { user, session } = await connected();
    const ended = await call("POST", `/v1/sessions/${session.id}/disconnect`, { token: user.accessToken, ip: user.ip });
    expect(ended.status, ended.text).toBe(200);
    const lastUsed = async () => (await env.DB.prepare("select last_used_at from workspaces where id = ?").bind(session.workspaceId).first<{ last_used_at: number }>())!.last_used_at;
    await env.DB.prepare("update workspaces set last_used_at = 0 where id = ?").bind(session.workspaceId).run();
    expect((await put(user.accessToken, "later.txt", new TextEncoder().encode("after"))).status).toBe(201);
    const afterUpload = await lastUsed();
    expect(afterUpload).toBeGreaterThan(0);
    await env.DB.prepare("update workspaces set last_used_at = 0 where id = ?").bind(session.workspaceId).run();
    expect((await get(user.accessToken, "later.txt")).text).toBe("after");
    expect(await lastUsed()).toBeGreaterThan(0);
    expect((await commandsOf(user.id)).slice(-2).map((c) => [c.command, c.session_id])).toEqual([
      ["upload", null],
      ["download", null],
    ]);
  });

  it("answers 404 for a missing file, 409 for a directory, 411 without Content-Length", async () => {
    const { user } = await connected();
    expect((await put(user.accessToken, "dir/file", new Uint8Array([1]))).status).toBe(201);
    expectProblem(await call("GET", "/v1/workspace/files/nope", { token: user.accessToken }), 404, "not_found");
    expectProblem(await call("GET", "/v1/workspace/files/dir", { token: user.accessToken }), 409, "not_a_file");
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array([1, 2, 3]));
        controller.close();
      },
    });
    const chunked = await rawCall("PUT", "/v1/workspace/files/x", { token: user.accessToken, body: stream });
    expect(chunked.status, chunked.text).toBe(411);
    expect(chunked.json.code).toBe("length_required");
  });
});

describe("resumable transfers (docs/decisions/0008)", () => {
  it("downloads a range (206 with Content-Range), the tail, and refuses a range past the end (416)", async () => {
    const { user } = await connected();
    const data = randomBytes(200_000);
    expect((await put(user.accessToken, "big.bin", data)).status).toBe(201);

    const tail = await get(user.accessToken, "big.bin", { Range: "bytes=150000-" });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("Content-Range")).toBe("bytes 150000-199999/200000");
    expect(tail.headers.get("Content-Length")).toBe("50000");
    expect(tail.bytes).toEqual(data.subarray(150_000));

    const middle = await get(user.accessToken, "big.bin", { Range: "bytes=70000-70099" });
    expect(middle.status).toBe(206);
    expect(middle.bytes).toEqual(data.subarray(70_000, 70_100));

    const last = await get(user.accessToken, "big.bin", { Range: "bytes=-10" });
    expect(last.bytes).toEqual(data.subarray(199_990));

    // A resumed download is checked against the whole file's digest, sent with the range too.
    const withDigest = await get(user.accessToken, "big.bin", { Range: "bytes=100000-", "Want-Repr-Digest": "sha-256" });
    const assembled = new Uint8Array(200_000);
    assembled.set(data.subarray(0, 100_000));
    assembled.set(withDigest.bytes, 100_000);
    expect(await sha256Hex(assembled)).toBe(withDigest.headers.get("Ozekai-Sha256"));

    const past = await get(user.accessToken, "big.bin", { Range: "bytes=200000-" });
    expect(past.status).toBe(416);
    expect(past.json.code).toBe("range_not_satisfiable");
  });

  it("uploads in chunks: each appended at the file's current size, 409 at any other offset", async () => {
    const { user } = await connected();
    const data = randomBytes(300_000);
    const first = await put(user.accessToken, "chunks/file.bin", data.subarray(0, 100_000));
    expect(first.json).toMatchObject({ size: 100_000 });

    const second = await put(user.accessToken, "chunks/file.bin", data.subarray(100_000, 250_000), { offset: 100_000 });
    expect(second.status, second.text).toBe(201);
    expect(second.json).toEqual({ path: "chunks/file.bin", size: 250_000, sha256: await sha256Hex(data.subarray(100_000, 250_000)) });

    // A chunk sent twice (the client did not see the answer) or out of order is refused, not duplicated.
    const again = await put(user.accessToken, "chunks/file.bin", data.subarray(100_000, 250_000), { offset: 100_000 });
    expect(again.status, again.text).toBe(409);
    expect(again.json.code).toBe("upload_offset_mismatch");
    const head = await rawCall("HEAD", "/v1/workspace/files/chunks/file.bin", { token: user.accessToken });
    expect(head.headers.get("Content-Length")).toBe("250000");

    expect((await put(user.accessToken, "chunks/file.bin", data.subarray(250_000), { offset: 250_000 })).status).toBe(201);
    const whole = await rawCall("HEAD", "/v1/workspace/files/chunks/file.bin", { token: user.accessToken, headers: { "Want-Repr-Digest": "sha-256" } });
    expect(whole.headers.get("Ozekai-Sha256")).toBe(await sha256Hex(data));

    // Appending to a file that is not there: the offset must be 0.
    expectProblem(
      await call("PUT", "/v1/workspace/files/none.bin?offset=5", { token: user.accessToken, rawBody: "x", headers: { "Content-Length": "1" } }),
      409,
      "upload_offset_mismatch",
    );
    expectProblem(await call("PUT", "/v1/workspace/files/f?offset=-1", { token: user.accessToken, rawBody: "x", headers: { "Content-Length": "1" } }), 400, "validation_failed");
  });
});

describe("limits and hostile input", () => {
  it.each([["%2E%2E%2Fetc%2Fpasswd"], ["a%2F..%2F..%2Fb"], ["%2Fetc%2Fpasswd"], ["a%00b"], ["a%5C..%5Cb"], ["a//b"], ["a/%2E%2E%2F"], ["%E0%A4%A"]])(
    "refuses the path %s with 400 before it reaches the host",
    async (path) => {
      const { user } = await connected();
      expectProblem(await put(user.accessToken, path, new Uint8Array([1])), 400, "validation_failed");
      expectProblem(await call("GET", `/v1/workspace/files/${path}`, { token: user.accessToken }), 400, "validation_failed");
      expect((await commandsOf(user.id)).map((c) => c.command)).toEqual(["connect"]);
    },
  );

  it("refuses a file over the per-file limit with 413, writing nothing", async () => {
    const { user } = await connected();
    const small = { ...testEnv(), WORKSPACE_FILE_MAX_BYTES: "1000" } as Cloudflare.Env;
    const res = await put(user.accessToken, "too-big.bin", randomBytes(1001), { env: small });
    expect(res.status, res.text).toBe(413);
    expect(res.json.code).toBe("payload_too_large");
    expect((await put(user.accessToken, "fits.bin", randomBytes(1000), { env: small })).status).toBe(201);
    // Chunks count towards the whole file.
    expect((await put(user.accessToken, "fits.bin", randomBytes(1), { env: small, offset: 1000 })).status).toBe(413);
    expectProblem(await call("GET", "/v1/workspace/files/too-big.bin", { token: user.accessToken }), 404, "not_found");
  });

  it("keeps the JSON limits for every other route", async () => {
    const { user } = await connected();
    const res = await call("POST", `/v1/sessions/x/disconnect`, { token: user.accessToken, rawBody: "x".repeat(70_000), headers: { "Content-Type": "application/json" } });
    expectProblem(res, 413, "payload_too_large");
    const typed = await call("POST", "/v1/sessions", { token: user.accessToken, rawBody: "raw", headers: { "Content-Type": "application/octet-stream" } });
    expectProblem(typed, 415, "unsupported_media_type");
  });
});

describe("whose workspace", () => {
  it("someone else's files cannot be reached: each user addresses only their own workspace", async () => {
    const { user: owner } = await connected();
    expect((await put(owner.accessToken, "secret.txt", new TextEncoder().encode("mine"))).status).toBe(201);
    const stranger = track(await createUser());
    // No workspace at all: nothing to read or write.
    expectProblem(await call("GET", "/v1/workspace/files/secret.txt", { token: stranger.accessToken }), 404, "not_found");
    expectProblem(await put(stranger.accessToken, "secret.txt", new Uint8Array([1])), 404, "not_found");
    // With a workspace of their own, the same path is theirs, not the owner's, and so is the archive.
    await grantPlan(stranger.id);
    expect((await connect(stranger)).status).toBe(201);
    expectProblem(await call("GET", "/v1/workspace/files/secret.txt", { token: stranger.accessToken }), 404, "not_found");
    const archive = await rawCall("GET", "/v1/workspace/archive", { token: stranger.accessToken });
    expect(archive.status).toBe(200);
    expect([...untar(archive.bytes).keys()].some((n) => n.includes("secret.txt"))).toBe(false);
    expect((await get(owner.accessToken, "secret.txt")).text).toBe("mine");
  });
});

describe("the workspace archive (policy §7 portability)", () => {
  it("is a tar of the whole workspace while connected, logged as a download", async () => {
    const { user, session } = await connected();
    const data = randomBytes(4096);
    expect((await put(user.accessToken, "project/data.bin", data)).status).toBe(201);
    const res = await rawCall("GET", "/v1/workspace/archive", { token: user.accessToken });
    expect(res.status, res.text).toBe(200);
    expect(res.headers.get("Content-Type")).toBe("application/x-tar");
    expect(res.headers.get("Content-Disposition")).toBe(`attachment; filename="workspace-${session.workspaceId}.tar"`);
    const entries = untar(res.bytes);
    const name = [...entries.keys()].find((n) => n.endsWith("project/data.bin"));
    expect(name, [...entries.keys()].join(", ")).toBeDefined();
    expect(entries.get(name!)).toEqual(data);
    expect((await commandsOf(user.id)).at(-1)).toMatchObject({ command: "download", session_id: session.id });
  });

  it("needs a running session (409 not_connected), and a workspace (404)", async () => {
    const { user, session } = await connected();
    expect((await call("POST", `/v1/sessions/${session.id}/disconnect`, { token: user.accessToken })).status).toBe(200);
    expectProblem(await call("GET", "/v1/workspace/archive", { token: user.accessToken }), 409, "not_connected");
    const nobody = track(await createUser());
    expectProblem(await call("GET", "/v1/workspace/archive", { token: nobody.accessToken }), 404, "not_found");
  });
});

describe("error log (policy §3)", () => {
  it("a host that fails a file request is logged by route, never by the file's name or the query", async () => {
    const { user, session } = await connected();
    const secret = `board-minutes-${randomId()}`;
    const { host_id: hostId } = (await env.DB.prepare("select host_id from workspaces where id = ?").bind(session.workspaceId).first<{ host_id: string }>())!;
    const { base_url: baseUrl } = (await env.DB.prepare("select base_url from gpu_hosts where id = ?").bind(hostId).first<{ base_url: string }>())!;
    // The registered host stops answering (without PROVISIONER_URL the registry row is not refreshed from it).
    const { PROVISIONER_URL: _configured, ...registryOnly } = testEnv();
    await env.DB.prepare("update gpu_hosts set base_url = 'http://127.0.0.1:1' where id = ?").bind(hostId).run();
    try {
      const res = await put(user.accessToken, `private/${secret}.txt`, randomBytes(10), { env: registryOnly as Cloudflare.Env, offset: 0 });
      expectProblem(res, 503, "provisioner_unavailable");
      const logged = await env.DB.prepare("select code, message from error_logs where request_id = ?").bind(res.headers.get("X-Request-Id")).all<{ code: string; message: string }>();
      expect(logged.results.map((r) => r.code)).toContain("provisioner_unreachable");
      expect(JSON.stringify(logged.results)).toContain("/files/{path}");
      expect(JSON.stringify(logged.results)).not.toContain(secret);
      expect(JSON.stringify(logged.results)).not.toContain("offset");
    } finally {
      await env.DB.prepare("update gpu_hosts set base_url = ? where id = ?").bind(baseUrl, hostId).run();
    }
  });
});
