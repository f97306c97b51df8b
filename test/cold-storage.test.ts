/**
 * Cold storage (workers/domain/cold-storage.ts, docs/decisions/0010-cold-storage.md) end to end:
 * the every-minute cron with a controlled scheduled time archives an idle workspace from the REAL
 * provisioner (test/global-setup.ts) into miniflare's R2 in 5 MiB parts, and connect restores it.
 * R2 faults are simulated by a wrapper around the WORKSPACES binding passed in the test's env
 * (named so in each test); everything else is the real thing.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { coldObjectKey, partSizeFor } from "../workers/domain/cold-storage";
import worker from "../workers/index";
import { accessLogLines, call, expectProblem, randomId, testEnv } from "./harness";
import { connect, entitledUser, MINIMAL_IMAGE, liveSessionsOf, provisioner, volumeExists } from "./provisioner-harness";
import { randomBytes, rawCall, sha256Hex } from "./transfer-harness";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const MIB = 1024 * 1024;
const db = env.DB;

/** 5 MiB parts (R2's minimum) and, unless a test says otherwise, one part per tick: a 12 MiB workspace takes three ticks. */
const COLD = { COLD_STORAGE_PART_MIB: "5", COLD_STORAGE_PARTS_PER_TICK: "1" };

async function tick(scheduledTime: number, overrides: Partial<Cloudflare.Env> = {}) {
  const controller = createScheduledController({ cron: "* * * * *", scheduledTime });
  const ctx = createExecutionContext();
  try {
    await worker.scheduled(controller, { ...testEnv(), ...COLD, ...overrides } as Cloudflare.Env, ctx);
  } finally {
    await waitOnExecutionContext(ctx);
  }
}

type ArchiveRow = {
  phase: string;
  upload_id: string | null;
  parts: string;
  part_hashes: string | null;
  sha256: string | null;
  size_bytes: number | null;
  attempts: number;
  last_error_code: string | null;
  lease_until: number | null;
  part_size: number;
};
const archiveRow = (workspaceId: string) => db.prepare("select * from workspace_archives where workspace_id = ?").bind(workspaceId).first<ArchiveRow>();
const workspaceRow = (workspaceId: string) =>
  db.prepare("select * from workspaces where id = ?").bind(workspaceId).first<{ state: string; host_id: string | null; transfer_bytes: number | null; last_used_at: number }>();
const partsOf = (row: ArchiveRow | null) => JSON.parse(row?.parts ?? "[]") as { partNumber: number; etag: string }[];

/**
 * A user whose workspace holds one file of `size` random bytes and who disconnected: hot, idle
 * from `idleFrom` (its last session's end). The file's name is unique, to look for it in D1.
 */
async function idleWorkspace(size = 12 * MIB) {
  const user = await entitledUser();
  const session = await connect(user);
  expect(session.status, session.text).toBe(201);
  const data = randomBytes(size);
  const path = `notes/cold-${randomId()}.bin`;
  const put = await rawCall("PUT", `/v1/workspace/files/${path}`, {
    token: user.accessToken,
    body: data,
    headers: { "Content-Type": "application/octet-stream", "Content-Length": String(size) },
  });
  expect(put.status, put.text).toBe(201);
  expect((await call("POST", `/v1/sessions/${session.json.id}/disconnect`, { token: user.accessToken, ip: user.ip })).status).toBe(200);
  const ended = await db.prepare("select ended_at from sessions where id = ?").bind(session.json.id).first<{ ended_at: number }>();
  const workspaceId = session.json.workspaceId as string;
  return { user, workspaceId, path, sha256: await sha256Hex(data), idleFrom: ended!.ended_at, coldAt: ended!.ended_at + 7 * DAY + MINUTE };
}

type Idle = Awaited<ReturnType<typeof idleWorkspace>>;

/** Ticks a minute apart from `from` until the workspace is cold (at most `max` ticks); the ticks it took. */
async function archiveFully(w: Idle, overrides: Partial<Cloudflare.Env> = {}, max = 10): Promise<number> {
  for (let n = 0; n < max; n++) {
    await tick(w.coldAt + n * MINUTE, overrides);
    if ((await workspaceRow(w.workspaceId))?.state === "cold") return n + 1;
  }
  throw new Error(`not cold after ${max} ticks: ${JSON.stringify(await archiveRow(w.workspaceId))}`);
}

const download = (w: Idle) => rawCall("GET", `/v1/workspace/files/${w.path}`, { token: w.user.accessToken });

/** Connects again (restoring when cold) and checks the file came back byte for byte. */
async function expectRestored(w: Idle) {
  const res = await connect(w.user);
  expect(res.status, res.text).toBe(201);
  const workspace = await workspaceRow(w.workspaceId);
  expect(workspace).toMatchObject({ state: "hot", transfer_bytes: null });
  expect(workspace!.host_id).not.toBeNull();
  const file = await download(w);
  expect(file.status).toBe(200);
  expect(await sha256Hex(file.bytes)).toBe(w.sha256);
  // The cold copy is gone with its row once the hot copy is back.
  expect(await archiveRow(w.workspaceId)).toBeNull();
  expect(await env.WORKSPACES.head(coldObjectKey(w.workspaceId))).toBeNull();
}

/** The WORKSPACES binding with some of its methods replaced (R2 fault simulation). */
function bucketWith(overrides: Partial<R2Bucket>): R2Bucket {
  const real = env.WORKSPACES;
  return new Proxy(real, {
    get(target, name) {
      if (Object.hasOwn(overrides, name)) return overrides[name as keyof R2Bucket];
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The WORKSPACES binding whose object bodies call `beforeChunk(bytesSentSoFar)` before each chunk (R2 fault simulation). */
const r2BodyHook = (beforeChunk: (sent: number) => Promise<void> | void) =>
  bucketWith({
    async get(key: string, options?: R2GetOptions) {
      const object = await env.WORKSPACES.get(key, options);
      if (!object) return null;
      const reader = object.body.getReader();
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await beforeChunk(sent);
          const next = await reader.read();
          if (next.done) return controller.close();
          sent += next.value.byteLength;
          controller.enqueue(next.value);
        },
      });
      return { size: object.size, customMetadata: object.customMetadata, body } as R2ObjectBody;
    },
  } as Partial<R2Bucket>);

/** Part uploads for which `failPart(n, key)` is true throw, as when R2 is unavailable. */
const r2FailingParts = (failPart: (n: number, key: string) => boolean) =>
  bucketWith({
    resumeMultipartUpload(key: string, uploadId: string) {
      const upload = env.WORKSPACES.resumeMultipartUpload(key, uploadId);
      return {
        key,
        uploadId,
        uploadPart: (n: number, value: ReadableStream) => (failPart(n, key) ? Promise.reject(new Error("simulated R2 outage")) : upload.uploadPart(n, value)),
        complete: (parts: R2UploadedPart[]) => upload.complete(parts),
        abort: () => upload.abort(),
      } as R2MultipartUpload;
    },
  });

describe("archive", () => {
  it("archives after WORKSPACE_COLD_AFTER_DAYS idle and not a minute before, in several parts over ticks, deleting the hot copy only once verified", async () => {
    const w = await idleWorkspace();
    await tick(w.idleFrom + 7 * DAY - MINUTE);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "hot" });
    expect(await archiveRow(w.workspaceId)).toBeNull();

    await tick(w.coldAt);
    const first = await archiveRow(w.workspaceId);
    expect(first).toMatchObject({ phase: "uploading", part_size: 5 * MIB, attempts: 1, last_error_code: null, lease_until: null });
    const hashes = JSON.parse(first!.part_hashes!) as string[];
    expect(hashes.length).toBe(3); // 12 MiB of random bytes (zstd does not shrink them) plus tar headers, in 5 MiB parts
    expect(partsOf(first).map((p) => p.partNumber)).toEqual([1]);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "archiving", transfer_bytes: 5 * MIB });
    // Not verified yet: the hot copy is still there, and R2 holds no object.
    expect(await volumeExists(w.workspaceId)).toBe(true);
    expect(await env.WORKSPACES.head(coldObjectKey(w.workspaceId))).toBeNull();
    const view = await call("GET", "/v1/workspace", { token: w.user.accessToken, ip: w.user.ip });
    expect(view.json).toMatchObject({ state: "archiving" });

    await tick(w.coldAt + MINUTE);
    const second = await archiveRow(w.workspaceId);
    expect(partsOf(second)).toEqual([partsOf(first)[0], expect.objectContaining({ partNumber: 2 })]);
    expect(await volumeExists(w.workspaceId)).toBe(true);

    await tick(w.coldAt + 2 * MINUTE);
    const done = await archiveRow(w.workspaceId);
    expect(done).toMatchObject({ phase: "complete", upload_id: null });
    expect(partsOf(done).map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "cold", host_id: null, transfer_bytes: null });
    const object = await env.WORKSPACES.head(coldObjectKey(w.workspaceId));
    expect(object?.size).toBe(done!.size_bytes);
    expect(object?.customMetadata?.sha256).toBe(done!.sha256);
    // The cold copy is the host's zstd stage (its frame magic first).
    const head = await env.WORKSPACES.get(coldObjectKey(w.workspaceId), { range: { offset: 0, length: 4 } });
    expect([...new Uint8Array(await head!.arrayBuffer())]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(await volumeExists(w.workspaceId)).toBe(false);
    expect((await call("GET", "/v1/workspace", { token: w.user.accessToken, ip: w.user.ip })).json).toMatchObject({ state: "cold" });

    // Another tick changes nothing (idempotent).
    await tick(w.coldAt + 3 * MINUTE);
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete", attempts: done!.attempts });

    await expectRestored(w);
  });

  it("a workspace too large for R2's 10,000 parts of the configured size is given larger parts, whole MiB, with room to have grown", () => {
    const config = { partSizeBytes: 16 * MIB };
    expect(partSizeFor(config, null)).toBe(16 * MIB);
    expect(partSizeFor(config, 100 * 1024 * MIB)).toBe(16 * MIB); // 100 GiB: 7,040 parts with its growth
    const large = 500 * 1024 * MIB;
    const part = partSizeFor(config, large);
    expect(part % MIB).toBe(0);
    expect(Math.ceil((large * 1.1) / part)).toBeLessThanOrEqual(10_000);
    expect(part).toBe(57 * MIB);
  });

  it("policy §3: archiving and restoring put none of the workspace's content or file names in D1 or the access log", async () => {
    const w = await idleWorkspace(6 * MIB);
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    await expectRestored(w);
    // The access log too (R2, below): it logs the files endpoint without the file's name.
    const tables = await db
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '_cf_%' and name <> 'd1_migrations'")
      .all<{ name: string }>();
    expect(tables.results.map((t) => t.name)).toEqual(expect.arrayContaining(["workspace_archives", "workspaces", "error_logs", "access_log_objects"]));
    const fileName = w.path.split("/").pop()!;
    for (const { name } of tables.results) {
      const rows = JSON.stringify((await db.prepare(`select * from "${name}"`).all()).results);
      expect(rows, name).not.toContain(fileName);
      expect(rows, name).not.toContain(w.sha256);
    }
    const lines = JSON.stringify(await accessLogLines());
    expect(lines).toContain("/v1/workspace/files/{path}");
    expect(lines).not.toContain(fileName);
  });

  it("does not archive a workspace whose session is live, or ended within the idle period", async () => {
    const w = await idleWorkspace(1024);
    // Used long ago, but its session only ended recently: the end counts as use.
    await db.prepare("update workspaces set last_used_at = ? where id = ?").bind(w.idleFrom - 30 * DAY, w.workspaceId).run();
    await tick(w.idleFrom + 7 * DAY - MINUTE);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "hot" });
    // A live session: never archived, however old the last use.
    const live = await connect(w.user);
    expect(live.status, live.text).toBe(201);
    await db.prepare("update workspaces set last_used_at = ? where id = ?").bind(w.idleFrom - 30 * DAY, w.workspaceId).run();
    await tick(w.coldAt + 30 * DAY);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "hot" });
    expect(await archiveRow(w.workspaceId)).toBeNull();
  });

  it("a workspace whose host is offline is not archived (its host is not asked) until the host is back in service", async () => {
    const w = await idleWorkspace(1024);
    const { host_id: hostId } = (await workspaceRow(w.workspaceId))!;
    await db.prepare("update gpu_hosts set status = 'offline' where id = ?").bind(hostId).run();
    try {
      await tick(w.coldAt);
      expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "hot" });
      expect(await archiveRow(w.workspaceId)).toBeNull();
    } finally {
      await db.prepare("update gpu_hosts set status = 'active' where id = ?").bind(hostId).run();
    }
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
  });

  it("R2 failing mid-archive (binding wrapper fails part 2, uploaded beside parts 1 and 3): the hot copy stays, the fault is recorded, the parts in flight beside it are kept, the next tick uploads part 2 only", async () => {
    const w = await idleWorkspace();
    const outage = r2FailingParts((n) => n === 2);
    await tick(w.coldAt, { WORKSPACES: outage, COLD_STORAGE_PARTS_PER_TICK: "64" });
    const stopped = await archiveRow(w.workspaceId);
    expect(stopped).toMatchObject({ phase: "uploading", attempts: 1, last_error_code: "r2_unavailable", lease_until: null });
    // Three parts, four in flight at once: 1 and 3 went up while 2 failed.
    expect(partsOf(stopped).map((p) => p.partNumber)).toEqual([1, 3]);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "archiving" });
    expect(await volumeExists(w.workspaceId)).toBe(true);
    const logged = await db.prepare("select code from error_logs where source = 'cold-storage' and user_id = ?").bind(w.user.id).all<{ code: string }>();
    expect(logged.results.map((r) => r.code)).toContain("r2_unavailable");

    // Still down: nothing lost, nothing redone.
    await tick(w.coldAt + MINUTE, { WORKSPACES: outage, COLD_STORAGE_PARTS_PER_TICK: "64" });
    expect(await archiveRow(w.workspaceId)).toMatchObject({ attempts: 2, last_error_code: "r2_unavailable" });

    // R2 back; count the parts this tick uploads: 2 only.
    const uploaded: number[] = [];
    // Only this workspace's parts: another test's idle workspace may be archived by the same ticks.
    const counting = r2FailingParts((n, key) => {
      if (key === coldObjectKey(w.workspaceId)) uploaded.push(n);
      return false;
    });
    await tick(w.coldAt + 2 * MINUTE, { WORKSPACES: counting, COLD_STORAGE_PARTS_PER_TICK: "64" });
    expect(uploaded).toEqual([2]);
    const done = await archiveRow(w.workspaceId);
    expect(done).toMatchObject({ phase: "complete", attempts: 3, last_error_code: null });
    expect(partsOf(done)[0]).toEqual(partsOf(stopped)[0]);
    expect(await volumeExists(w.workspaceId)).toBe(false);
    await expectRestored(w);
  });

  it("the host losing its stage mid-way (provisioner restart) does not lose or corrupt anything: the archive resumes or restarts and restores byte-identical", async () => {
    const w = await idleWorkspace();
    await tick(w.coldAt);
    expect(partsOf(await archiveRow(w.workspaceId))).toHaveLength(1);
    expect((await provisioner("DELETE", `/v1/workspaces/${w.workspaceId}/exports`)).status).toBe(204);
    await archiveFully({ ...w, coldAt: w.coldAt + MINUTE });
    await expectRestored(w);
  });

  it("overlapping cron runs never work on one archive twice: a held lease is respected, and concurrent ticks upload each part once", async () => {
    const w = await idleWorkspace();
    await tick(w.coldAt);
    const first = await archiveRow(w.workspaceId);
    // Another run holds the archive (as a run in progress would) until 5 minutes later.
    await db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(w.coldAt + 5 * MINUTE, w.workspaceId).run();
    await tick(w.coldAt + MINUTE);
    expect(await archiveRow(w.workspaceId)).toMatchObject({ attempts: first!.attempts, parts: first!.parts });
    // Past the lease: the next run takes over. Two runs at once, each with room for every part.
    const uploaded: number[] = [];
    // Only this workspace's parts: another test's idle workspace may be archived by the same ticks.
    const counting = r2FailingParts((n, key) => {
      if (key === coldObjectKey(w.workspaceId)) uploaded.push(n);
      return false;
    });
    await Promise.all([5, 6].map((m) => tick(w.coldAt + m * MINUTE, { WORKSPACES: counting, COLD_STORAGE_PARTS_PER_TICK: "64" })));
    expect(uploaded.sort()).toEqual([2, 3]); // in flight together: in either order
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete" });
    await expectRestored(w);
  });

  it("a restore that died and is never retried is put back to cold by the next tick: partial volume deleted, cold copy kept", async () => {
    const w = await idleWorkspace(1024);
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    const hostId = (await db.prepare("select id from gpu_hosts limit 1").first<{ id: string }>())!.id;
    // A connect began restoring onto the host (a partial volume there) and died: its lease ran out.
    const partial = await provisioner("PUT", `/v1/workspaces/${w.workspaceId}/archive`, new Uint8Array(1024)); // an empty tar
    expect(partial.status, partial.text).toBe(200);
    expect(await volumeExists(w.workspaceId)).toBe(true);
    await db.batch([
      db.prepare("update workspaces set state = 'restoring', host_id = ?, transfer_bytes = 512 where id = ?").bind(hostId, w.workspaceId),
      db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(w.coldAt + 2 * MINUTE, w.workspaceId),
    ]);
    // Not while the lease runs.
    await tick(w.coldAt + MINUTE);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "restoring" });
    await tick(w.coldAt + 3 * MINUTE);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "cold", host_id: null, transfer_bytes: null });
    expect(await volumeExists(w.workspaceId)).toBe(false);
    expect(await env.WORKSPACES.head(coldObjectKey(w.workspaceId))).not.toBeNull();
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete", lease_until: null });
    await expectRestored(w);
  });
});

describe("connect during an archive", () => {
  it("connect while archiving cancels the archive: the hot copy is intact, what R2 had is gone", async () => {
    const w = await idleWorkspace();
    await tick(w.coldAt);
    const archiving = await archiveRow(w.workspaceId);
    expect(archiving).toMatchObject({ phase: "uploading" });
    const res = await connect(w.user);
    expect(res.status, res.text).toBe(201);
    expect(res.json.workspaceId).toBe(w.workspaceId);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "hot", transfer_bytes: null });
    expect(await archiveRow(w.workspaceId)).toBeNull();
    // The multipart upload was aborted: it takes no more parts, and no object was made.
    const aborted = env.WORKSPACES.resumeMultipartUpload(coldObjectKey(w.workspaceId), archiving!.upload_id!);
    await expect(aborted.uploadPart(2, new Uint8Array(10))).rejects.toThrow();
    expect(await env.WORKSPACES.head(coldObjectKey(w.workspaceId))).toBeNull();
    const file = await download(w);
    expect(await sha256Hex(file.bytes)).toBe(w.sha256);
    // The cancelled attempt does not come back on the next tick (the session is live).
    await tick(w.coldAt + MINUTE);
    expect(await archiveRow(w.workspaceId)).toBeNull();
  });

  it("connect after the commit answers 409 workspace_busy with Retry-After while the hot copy is deleted; the next tick finishes and connect restores", async () => {
    const w = await idleWorkspace();
    // The host gets busy right after the upload completes (a container mounts the volume; made by this
    // wrapper when the job checks the object): the commit happens, deleting the hot copy fails.
    const blocker = { sessionId: `blk${randomId()}`, workspaceId: w.workspaceId, tenantId: w.user.id };
    const busyAfterUpload = bucketWith({
      async head(key: string) {
        const body = { ...blocker, image: MINIMAL_IMAGE, plan: { gpuCount: 0, cpus: 0.5, memoryMb: 128, pidsLimit: 64 }, start: false };
        const made = await provisioner("POST", "/v1/containers", JSON.stringify(body));
        expect(made.status, made.text).toBe(201);
        return env.WORKSPACES.head(key);
      },
    });
    try {
      await tick(w.coldAt, { WORKSPACES: busyAfterUpload, COLD_STORAGE_PARTS_PER_TICK: "64" });
      expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "committed", last_error_code: "workspace_busy" });
      expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "archiving" });

      const busy = await connect(w.user);
      expectProblem(busy, 409, "workspace_busy");
      expect(busy.headers.get("Retry-After")).toMatch(/^\d+$/);
      expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "committed" });
    } finally {
      await provisioner("DELETE", `/v1/containers/${blocker.sessionId}`);
    }
    await tick(w.coldAt + MINUTE);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "cold" });
    expect(await volumeExists(w.workspaceId)).toBe(false);
    await expectRestored(w);
  });
});

describe("restore", () => {
  it("a corrupt cold copy is refused by the host: 503, the cold copy is kept, the workspace stays cold, no partial volume", async () => {
    const w = await idleWorkspace(6 * MIB);
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    const key = coldObjectKey(w.workspaceId);
    const original = await env.WORKSPACES.get(key);
    const bytes = new Uint8Array(await original!.arrayBuffer());
    const corrupt = bytes.slice();
    corrupt[3 * MIB] = corrupt[3 * MIB]! ^ 0xff; // inside the file's bytes: a valid tar with other content
    // Same size and metadata: only the host's hash of what it received can tell.
    await env.WORKSPACES.put(key, corrupt, { customMetadata: original!.customMetadata });

    const refused = await connect(w.user);
    expectProblem(refused, 503, "cold_storage_unavailable");
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "cold", host_id: null, transfer_bytes: null });
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete", lease_until: null });
    expect((await env.WORKSPACES.head(key))?.size).toBe(bytes.length);
    expect(await volumeExists(w.workspaceId)).toBe(false);
    expect(await liveSessionsOf(w.user.id)).toEqual([]);

    // The cold copy repaired (a second R2 copy, say): the next connect restores it.
    await env.WORKSPACES.put(key, bytes, { customMetadata: original!.customMetadata });
    await expectRestored(w);
  });

  it("a cold copy made before stages were compressed (a plain tar) restores byte for byte", async () => {
    const w = await idleWorkspace(12 * MIB);
    const plain = await provisioner("GET", `/v1/workspaces/${w.workspaceId}/archive`);
    expect(plain.status).toBe(200);
    expect(new TextDecoder().decode(plain.bytes.subarray(0, 2))).toBe("./");
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    // The cold copy as an archive made before compression left it: the plain tar, its hash and size recorded.
    const sha256 = await sha256Hex(plain.bytes);
    await env.WORKSPACES.put(coldObjectKey(w.workspaceId), plain.bytes, { customMetadata: { sha256, sizeBytes: String(plain.bytes.length) } });
    await db.prepare("update workspace_archives set sha256 = ?, size_bytes = ? where workspace_id = ?").bind(sha256, plain.bytes.length, w.workspaceId).run();
    await expectRestored(w);
  });

  it("R2 failing during a restore (binding wrapper: the body breaks after 1 MiB): 503 with Retry-After, nothing half-written, the next connect restores", async () => {
    const w = await idleWorkspace();
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    const breaking = r2BodyHook((sent) => {
      if (sent >= MIB) throw new Error("simulated R2 outage");
    });
    const failed = await connect(w.user, { env: { ...testEnv(), WORKSPACES: breaking } as Cloudflare.Env });
    expectProblem(failed, 503, "cold_storage_unavailable");
    expect(failed.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "cold", host_id: null });
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete", lease_until: null });
    // The host learns of the cut-off body on its own time (a loaded host may not even have started
    // the import when the Worker answers): it deletes what it wrote.
    await expect.poll(() => volumeExists(w.workspaceId), { timeout: 15_000 }).toBe(false);
    await expectRestored(w);
  });

  it("a restore whose lease another request took over mid-transfer stops (409 workspace_busy): the host import is aborted, the cold copy untouched", async () => {
    const w = await idleWorkspace(32 * MIB);
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    // The R2 body (binding wrapper) pauses after 2 MiB while the lease is taken over, as a request
    // that judged this restore dead would; the restore notices at its next progress write (8 MiB).
    let stolen = false;
    const takenOver = r2BodyHook(async (sent) => {
      if (sent < 2 * MIB || stolen) return;
      stolen = true;
      await db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(Date.now() + 10 * MINUTE, w.workspaceId).run();
    });
    const busy = await connect(w.user, { env: { ...testEnv(), WORKSPACES: takenOver } as Cloudflare.Env });
    expectProblem(busy, 409, "workspace_busy");
    expect(busy.headers.get("Retry-After")).toMatch(/^\d+$/);
    // The new owner's state is left alone: still restoring, the cold copy and its row intact.
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "restoring" });
    expect(await archiveRow(w.workspaceId)).toMatchObject({ phase: "complete" });
    expect(await env.WORKSPACES.head(coldObjectKey(w.workspaceId))).not.toBeNull();
    expect(await liveSessionsOf(w.user.id)).toEqual([]);
    // The host's import was cut off (not left to finish into a volume nobody owns): it deleted what it wrote.
    await expect.poll(() => volumeExists(w.workspaceId), { timeout: 15_000 }).toBe(false);
    // Once that owner's lease runs out too, a connect restores byte for byte.
    await db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(Date.now() - MINUTE, w.workspaceId).run();
    await expectRestored(w);
  });

  it("a restore in progress elsewhere answers 409 with Retry-After; one that died (its lease ran out) is taken over", async () => {
    const w = await idleWorkspace(1024);
    await archiveFully(w, { COLD_STORAGE_PARTS_PER_TICK: "64" });
    // Another request is restoring (its lease runs for another minute).
    await db.batch([
      db.prepare("update workspaces set state = 'restoring' where id = ?").bind(w.workspaceId),
      db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(Date.now() + MINUTE, w.workspaceId),
    ]);
    const busy = await connect(w.user);
    expectProblem(busy, 409, "workspace_busy");
    expect(busy.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(await workspaceRow(w.workspaceId)).toMatchObject({ state: "restoring" });
    // That request died: its lease ran out.
    await db.prepare("update workspace_archives set lease_until = ? where workspace_id = ?").bind(Date.now() - MINUTE, w.workspaceId).run();
    await expectRestored(w);
  });
});
