/**
 * `/v1/account/ssh-keys`: add, list, remove; only Ed25519 and RSA ≥ 3072 bits; the fingerprint as
 * `ssh-keygen -lf` prints it; every key its owner's alone; in the export, gone with the account.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createUser, expectProblem, type TestUser } from "./harness";
import { SSH_KEYS } from "./ssh-key-fixtures";

const as = (user: TestUser) => ({ ip: user.ip, token: user.accessToken });
const add = (user: TestUser, body: unknown) => call("POST", "/v1/account/ssh-keys", { ...as(user), body });
const list = async (user: TestUser) => {
  const res = await call("GET", "/v1/account/ssh-keys", as(user));
  expect(res.status, res.text).toBe(200);
  return res.json.keys as { id: string; name: string; type: string; bits: number; fingerprint: string; createdAt: string }[];
};
const keyRows = async (userId: string) => (await env.DB.prepare("select public_key from ssh_keys where user_id = ?").bind(userId).all<{ public_key: string }>()).results;

describe("adding SSH keys", () => {
  it("adds Ed25519 and RSA 3072 keys, each with ssh-keygen's fingerprint, named by its comment unless named, listed oldest first, audited", async () => {
    const user = await createUser();
    const ed = await add(user, { publicKey: `  ${SSH_KEYS.ed25519.line}\n` });
    expect(ed.status, ed.text).toBe(201);
    expect(ed.json).toEqual({ id: expect.any(String), name: "test-ed25519", type: "ssh-ed25519", bits: 256, fingerprint: SSH_KEYS.ed25519.fingerprint, createdAt: expect.any(String) });
    const rsa = await add(user, { publicKey: SSH_KEYS.rsa3072.line, name: "work laptop" });
    expect(rsa.status, rsa.text).toBe(201);
    expect(rsa.json).toMatchObject({ name: "work laptop", type: "ssh-rsa", bits: 3072, fingerprint: SSH_KEYS.rsa3072.fingerprint });
    expect(await list(user)).toEqual([ed.json, rsa.json]);
    // What sshd is given: type and key only, never the comment.
    expect((await keyRows(user.id)).map((r) => r.public_key).sort()).toEqual([SSH_KEYS.ed25519.line, SSH_KEYS.rsa3072.line].map((l) => l.split(" ").slice(0, 2).join(" ")).sort());
    const events = await env.DB.prepare("select type, detail from account_events where user_id = ? and type like 'ssh_key_%' order by id").bind(user.id).all<{ type: string; detail: string }>();
    expect(events.results.map((e) => [e.type, JSON.parse(e.detail).fingerprint])).toEqual([
      ["ssh_key_added", SSH_KEYS.ed25519.fingerprint],
      ["ssh_key_added", SSH_KEYS.rsa3072.fingerprint],
    ]);
  });

  it("409 for a key already on the account (whatever its comment), and nothing added", async () => {
    const user = await createUser();
    expect((await add(user, { publicKey: SSH_KEYS.ed25519.line })).status).toBe(201);
    const again = await add(user, { publicKey: SSH_KEYS.ed25519.line.replace("test-ed25519", "other comment") });
    expectProblem(again, 409, "ssh_key_exists");
    expect(again.json.detail).toContain(SSH_KEYS.ed25519.fingerprint);
    expect(await list(user)).toHaveLength(1);
    // Another account may register the same public key: keys are not an account identifier.
    expect((await add(await createUser(), { publicKey: SSH_KEYS.ed25519.line })).status).toBe(201);
  });

  it.each([
    ["DSA", SSH_KEYS.dsa.line, /DSA keys are not accepted/],
    ["RSA 2048", SSH_KEYS.rsa2048.line, /2048 bits; at least 3072/],
    ["ECDSA", SSH_KEYS.ecdsa.line, /ecdsa-sha2-nistp256 keys are not accepted/],
    ["garbage", "hello world", /not an OpenSSH public key line/],
    ["a private key", "-----BEGIN OPENSSH PRIVATE KEY-----", /not an OpenSSH public key line/],
    ["bad base64", "ssh-ed25519 AAAA%%%% x", /not valid base64/],
    ["a type that lies", `ssh-ed25519 ${SSH_KEYS.rsa3072.line.split(" ")[1]}`, /does not match its type/],
    ["an authorized_keys option", `command="rm -rf /" ${SSH_KEYS.ed25519.line}`, /not an OpenSSH public key line/],
    ["two lines", `${SSH_KEYS.ed25519.line}\n${SSH_KEYS.rsa3072.line}`, /line breaks/],
    ["a truncated key", SSH_KEYS.ed25519.line.slice(0, 60), /not valid/],
  ])("422 ssh_key_unsupported for %s, with a detail that says why, and nothing added", async (_what, publicKey, detail) => {
    const user = await createUser();
    const res = await add(user, { publicKey });
    expectProblem(res, 422, "ssh_key_unsupported");
    expect(res.json.detail).toMatch(detail);
    expect(res.json.errors).toEqual([{ field: "publicKey", message: res.json.detail }]);
    expect(await keyRows(user.id)).toEqual([]);
  });

  it("400 for a body that is not { publicKey, name? }", async () => {
    const user = await createUser();
    expectProblem(await add(user, {}), 400, "validation_failed");
    expectProblem(await add(user, { publicKey: SSH_KEYS.ed25519.line, extra: 1 }), 400, "validation_failed");
    expectProblem(await add(user, { publicKey: SSH_KEYS.ed25519.line, name: "   " }), 400, "validation_failed");
  });
});

describe("removing SSH keys", () => {
  it("204 removes the key (audited); it is then 404, and the list no longer has it", async () => {
    const user = await createUser();
    const key = (await add(user, { publicKey: SSH_KEYS.ed25519.line })).json;
    const res = await call("DELETE", `/v1/account/ssh-keys/${key.id}`, as(user));
    expect(res.status, res.text).toBe(204);
    expect(await list(user)).toEqual([]);
    expectProblem(await call("DELETE", `/v1/account/ssh-keys/${key.id}`, as(user)), 404, "not_found");
    const removed = await env.DB.prepare("select detail from account_events where user_id = ? and type = 'ssh_key_removed'").bind(user.id).all<{ detail: string }>();
    expect(removed.results.map((r) => JSON.parse(r.detail))).toEqual([{ fingerprint: SSH_KEYS.ed25519.fingerprint }]);
  });

  it("404 for another user's key id, which stays theirs; nobody lists another's keys", async () => {
    const owner = await createUser();
    const other = await createUser();
    const key = (await add(owner, { publicKey: SSH_KEYS.ed25519.line })).json;
    expectProblem(await call("DELETE", `/v1/account/ssh-keys/${key.id}`, as(other)), 404, "not_found");
    expect(await list(other)).toEqual([]);
    expect((await list(owner)).map((k) => k.id)).toEqual([key.id]);
  });
});

describe("SSH keys and the account's data", () => {
  it("are in the privacy export and erased with the account", async () => {
    const user = await createUser();
    const key = (await add(user, { publicKey: SSH_KEYS.ed25519.line })).json;
    const exported = await call("GET", "/v1/privacy/export", as(user));
    expect(exported.status, exported.text).toBe(200);
    expect(exported.json.tables.ssh_keys).toEqual([expect.objectContaining({ id: key.id, user_id: user.id, fingerprint: SSH_KEYS.ed25519.fingerprint, public_key: expect.stringMatching(/^ssh-ed25519 /) })]);
    const deleted = await call("DELETE", "/v1/account", { ...as(user), body: { password: user.password } });
    expect(deleted.status, deleted.text).toBe(202);
    expect(await keyRows(user.id)).toEqual([]);
  });
});
