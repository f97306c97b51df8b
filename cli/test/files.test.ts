/**
 * upload, download, ls and rm as a person runs them: real subprocesses against the shared Worker
 * and the real provisioner on Docker. The user connects once through the API (a workspace is made
 * on the first connect); the file routes then need the workspace hot, not the session.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { entitledUser, jsonOf, logIn, newConfigDir, ozekai, readProfile, shown, startOzekai, startProxy, type TestUser } from "./harness.ts";

const api = (path: string, init: RequestInit & { token: string }) =>
  fetch(`${inject("apiUrl")}${path}`, { ...init, headers: { Authorization: `Bearer ${init.token}`, ...init.headers } });

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const MIB = 2 ** 20;

/** The workspace file's size and SHA-256 as the API reports them (HEAD with Want-Repr-Digest). */
async function remoteFile(token: string, path: string, digest = true) {
  const response = await api(`/v1/workspace/files/${path.split("/").map(encodeURIComponent).join("/")}`, { method: "HEAD", token, headers: digest ? { "Want-Repr-Digest": "sha-256" } : {} });
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return { size: Number(response.headers.get("Content-Length")), sha256: response.headers.get("Ozekai-Sha256") };
}

/** No stack trace and no JavaScript error name in what a person reads. */
const noStackTrace = (text: string) => {
  expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(text).not.toMatch(/TypeError|ReferenceError|node:internal/);
};

interface Files {
  files: { local: string; remote: string; status: string; size?: number; sha256?: string; movedBytes?: number; resumedFrom?: number; reason?: string }[];
  summary: Record<string, number>;
}
const filesOf = (ran: Awaited<ReturnType<typeof ozekai>>) => jsonOf(ran).data as unknown as Files;
const byRemote = (doc: Files) => Object.fromEntries(doc.files.map((file) => [file.remote, file]));

let user: TestUser;
let token: string;
let work: string;
let sessionId: string;

beforeAll(async () => {
  user = await entitledUser();
  token = readProfile(user.configDir).accessToken;
  let session = (await (await api("/v1/sessions", { method: "POST", token })).json()) as { id: string; state: string };
  for (let i = 0; session.state === "starting" && i < 120; i++) {
    await sleep(500);
    session = (await (await api(`/v1/sessions/${session.id}`, { method: "GET", token })).json()) as { id: string; state: string };
  }
  expect(session.state).toBe("running");
  sessionId = session.id;
  work = mkdtempSync(join(tmpdir(), "ozekai-cli-files-"));
}, 180_000);

afterAll(async () => {
  if (!sessionId) return;
  const fresh = readProfile(user.configDir).accessToken; // the CLI may have refreshed it
  await api(`/v1/sessions/${sessionId}/disconnect`, { method: "POST", token: fresh });
  await api("/v1/workspace", { method: "DELETE", token: fresh });
}, 120_000);

describe("upload and download", () => {
  let tree: string;
  const originals: Record<string, string> = {};

  it("uploads a directory of mixed sizes, reports the symlink and the pipe as not followed, and sends the rest", async () => {
    tree = join(work, "project");
    mkdirSync(join(tree, "nested/deeper"), { recursive: true });
    writeFileSync(join(tree, "empty.bin"), "");
    writeFileSync(join(tree, "small.txt"), "hello world");
    writeFileSync(join(tree, "mid.bin"), randomBytes(3 * MIB + 17));
    writeFileSync(join(tree, "nested/deeper/inner.bin"), randomBytes(100 * 1024));
    writeFileSync(join(tree, "nested/note.md"), "# notes\n");
    symlinkSync("small.txt", join(tree, "link-to-small"));
    execFileSync("mkfifo", [join(tree, "pipe")]);
    for (const name of ["empty.bin", "small.txt", "mid.bin", "nested/deeper/inner.bin", "nested/note.md"]) originals[name] = sha256(join(tree, name));

    const ran = await ozekai(["upload", "project", "--json"], { configDir: user.configDir, cwd: work });
    expect(ran.code, shown(ran)).toBe(0);
    const doc = filesOf(ran);
    const files = byRemote(doc);
    for (const [name, sha] of Object.entries(originals)) {
      expect(files[`project/${name}`], name).toMatchObject({ status: "uploaded", sha256: sha });
      expect((await remoteFile(token, `project/${name}`))?.sha256).toBe(sha);
    }
    expect(files["project/link-to-small"]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/symbolic link: not followed/) });
    expect(files["project/pipe"]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/not a regular file/) });
    expect(ran.stderr).toMatch(/skipped project\/link-to-small: a symbolic link: not followed/);
    expect(doc.summary).toMatchObject({ uploaded: 5, skipped: 2, failed: 0 });
    expect(await remoteFile(token, "project/link-to-small", false)).toBeUndefined();
    // Not a terminal: no progress line, a plain summary.
    expect(ran.stderr).not.toContain("\r");
    expect(ran.stderr).toMatch(/uploaded 5, resumed 0, unchanged 0, skipped 2, failed 0, .* moved in/);
  });

  it("sends many small files as one tar stream and the big ones alone, each checked by its SHA-256, all the workspace user's", async () => {
    const many = join(work, "many");
    const locals: Record<string, string> = {};
    for (let i = 0; i < 240; i++) {
      const name = `d${i % 6}/f${i}.bin`;
      mkdirSync(join(many, `d${i % 6}`), { recursive: true });
      writeFileSync(join(many, name), randomBytes(1 + ((i * 977) % 9000)));
      locals[name] = sha256(join(many, name));
    }
    writeFileSync(join(many, "big.bin"), randomBytes(2 * MIB + 3));
    locals["big.bin"] = sha256(join(many, "big.bin"));
    // Not a plain ustar name (UTF-8, long): sent on its own.
    const unusual = `${"é".repeat(60)}.txt`;
    writeFileSync(join(many, unusual), "unusual");
    locals[unusual] = sha256(join(many, unusual));
    writeFileSync(join(many, "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 });
    locals["run.sh"] = sha256(join(many, "run.sh"));

    const ran = await ozekai(["upload", "many", "sets/", "--json"], { configDir: user.configDir, cwd: work });
    expect(ran.code, shown(ran)).toBe(0);
    const doc = filesOf(ran);
    expect(doc.summary).toMatchObject({ files: 243, uploaded: 243, failed: 0 });
    const files = byRemote(doc);
    for (const [name, sha] of Object.entries(locals)) expect(files[`sets/many/${name}`], name).toMatchObject({ status: "uploaded", sha256: sha });
    for (const name of ["d0/f0.bin", "d5/f239.bin", "big.bin", unusual, "run.sh"]) expect((await remoteFile(token, `sets/many/${name}`))?.sha256, name).toBe(locals[name]);
    // What the session sees: the user's files and directories, the executable bit kept.
    const seen = await ozekai(["exec", "--", "sh", "-c", "cd /workspace/sets && stat -c '%u %a %n' . many many/d3 many/d3/f3.bin many/run.sh && ./many/run.sh"], { configDir: user.configDir });
    expect(seen.code, shown(seen)).toBe(0);
    expect(seen.stdout.trim().split(/\r?\n/)).toEqual(["1000 755 .", "1000 755 many", "1000 755 many/d3", "1000 644 many/d3/f3.bin", "1000 755 many/run.sh", "ran"]);
  }, 120_000);

  it("lists directories, every page, with types, sizes and times (human and --json)", async () => {
    const ran = await ozekai(["ls", "project", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    const data = jsonOf(ran).data as { path: string; entries: { name: string; type: string; size: number; mtime: string }[]; total: number };
    expect(data.path).toBe("project");
    expect(data.entries.map((e) => e.name)).toEqual(["empty.bin", "mid.bin", "nested", "small.txt"]);
    expect(data.entries.find((e) => e.name === "mid.bin")).toMatchObject({ type: "file", size: 3 * MIB + 17 });
    expect(data.entries.find((e) => e.name === "nested")?.type).toBe("dir");
    expect(Number.isNaN(Date.parse(data.entries[0]!.mtime))).toBe(false);

    const human = await ozekai(["ls", "project/nested"], { configDir: user.configDir });
    expect(human.code, shown(human)).toBe(0);
    expect(human.stdout).toMatch(/^dir .* deeper\/$/m);
    expect(human.stdout).toMatch(/^file .*8 B .* note\.md$/m);
  });

  it("downloads the whole directory back with the same SHA-256s, leaving no partial file", async () => {
    const into = join(work, "back");
    mkdirSync(into);
    const ran = await ozekai(["download", "project", into, "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    const doc = filesOf(ran);
    expect(doc.summary).toMatchObject({ downloaded: 5, failed: 0 });
    for (const [name, sha] of Object.entries(originals)) {
      expect(sha256(join(into, "project", name)), name).toBe(sha);
      expect(byRemote(doc)[`project/${name}`]).toMatchObject({ status: "downloaded", sha256: sha });
    }
    const all = readdirSync(into, { recursive: true }) as string[];
    expect(all.filter((name) => name.endsWith(".ozekai-part"))).toEqual([]);
    // One file to a name of its own.
    const single = await ozekai(["download", "project/nested/deeper/inner.bin", join(work, "inner-copy.bin")], { configDir: user.configDir });
    expect(single.code, shown(single)).toBe(0);
    expect(sha256(join(work, "inner-copy.bin"))).toBe(originals["nested/deeper/inner.bin"]);
  });

  it("--sync skips what is unchanged and sends what changed, both ways", async () => {
    writeFileSync(join(tree, "small.txt"), "hello world, changed");
    const up = await ozekai(["upload", "--sync", "project", "--json"], { configDir: user.configDir, cwd: work });
    expect(up.code, shown(up)).toBe(0);
    const files = byRemote(filesOf(up));
    expect(files["project/small.txt"]).toMatchObject({ status: "uploaded", movedBytes: 20 });
    for (const name of ["empty.bin", "mid.bin", "nested/deeper/inner.bin", "nested/note.md"]) expect(files[`project/${name}`], name).toMatchObject({ status: "unchanged", movedBytes: 0 });
    expect(filesOf(up).summary.movedBytes).toBe(20);

    const down = await ozekai(["download", "--sync", "project", join(work, "back"), "--json"], { configDir: user.configDir });
    expect(down.code, shown(down)).toBe(0);
    const back = byRemote(filesOf(down));
    expect(back["project/small.txt"]).toMatchObject({ status: "downloaded", movedBytes: 20 });
    expect(back["project/mid.bin"]).toMatchObject({ status: "unchanged", movedBytes: 0 });
    expect(readFileSync(join(work, "back/project/small.txt"), "utf8")).toBe("hello world, changed");
  });

  it("an upload killed midway resumes where the workspace's copy ends and sends only the rest", async () => {
    const big = join(work, "big.bin");
    const size = 40 * MIB;
    writeFileSync(big, randomBytes(size));
    const started = startOzekai(["upload", "big.bin", "--limit-rate", "4M"], { configDir: user.configDir, cwd: work });
    let partial = 0;
    for (let i = 0; i < 200 && partial < 4 * MIB; i++) {
      await sleep(200);
      partial = (await remoteFile(token, "big.bin", false))?.size ?? 0;
    }
    expect(partial).toBeGreaterThan(0);
    started.child.kill("SIGKILL");
    const killed = await started.done;
    expect(killed.code).toBeNull();
    expect(readdirSync(join(user.configDir, "transfers")).length).toBe(1); // what it resumes from
    // The host finishes writing what reached it before the kill: wait until the size holds still.
    let there = -1;
    for (let i = 0, last = -2; i < 30 && there !== last; i++) {
      last = there;
      await sleep(1000);
      there = (await remoteFile(token, "big.bin", false))?.size ?? 0;
    }
    expect(there).toBeGreaterThan(0);
    expect(there).toBeLessThan(size);

    const resumedAt = performance.now();
    const ran = await ozekai(["upload", "big.bin", "--json"], { configDir: user.configDir, cwd: work, killAfterMs: 100_000 });
    expect(ran.code, `${shown(ran)}\nafter ${performance.now() - resumedAt} ms`).toBe(0);
    const file = filesOf(ran).files[0]!;
    expect(file).toMatchObject({ status: "resumed", resumedFrom: there, movedBytes: size - there, sha256: sha256(big) });
    expect((await remoteFile(token, "big.bin"))?.sha256).toBe(sha256(big));
    expect(readdirSync(join(user.configDir, "transfers"))).toEqual([]);
  }, 240_000);

  it("a changed local file is sent whole, never resumed onto the bytes of its former self", async () => {
    const file = join(work, "changing.bin");
    writeFileSync(file, randomBytes(24 * MIB));
    const started = startOzekai(["upload", "changing.bin", "--limit-rate", "4M"], { configDir: user.configDir, cwd: work });
    for (let i = 0; i < 200 && ((await remoteFile(token, "changing.bin", false))?.size ?? 0) < 2 * MIB; i++) await sleep(200);
    started.child.kill("SIGKILL");
    await started.done;
    writeFileSync(file, randomBytes(24 * MIB));
    const ran = await ozekai(["upload", "changing.bin", "--json"], { configDir: user.configDir, cwd: work });
    expect(ran.code, shown(ran)).toBe(0);
    expect(filesOf(ran).files[0]).toMatchObject({ status: "uploaded", movedBytes: 24 * MIB, sha256: sha256(file) });
    expect(filesOf(ran).files[0]?.resumedFrom).toBeUndefined();
  }, 120_000);

  it("a download killed midway resumes from its partial file and checks the whole file's SHA-256", async () => {
    const source = join(work, "to-download.bin");
    writeFileSync(source, randomBytes(40 * MIB));
    const uploaded = await ozekai(["upload", "to-download.bin"], { configDir: user.configDir, cwd: work });
    expect(uploaded.code, shown(uploaded)).toBe(0);
    const into = join(work, "resumed-download");
    mkdirSync(into);
    const part = join(into, "to-download.bin.ozekai-part");
    const started = startOzekai(["download", "to-download.bin", into, "--limit-rate", "4M"], { configDir: user.configDir });
    for (let i = 0; i < 200 && (existsSync(part) ? statSync(part).size : 0) < 4 * MIB; i++) await sleep(200);
    started.child.kill("SIGKILL");
    const killed = await started.done;
    expect(existsSync(part), shown(killed)).toBe(true);
    const held = statSync(part).size;
    expect(held).toBeGreaterThan(0);
    expect(existsSync(join(into, "to-download.bin"))).toBe(false); // not under its own name until verified

    const ran = await ozekai(["download", "to-download.bin", into, "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    expect(filesOf(ran).files[0]).toMatchObject({ status: "resumed", resumedFrom: held, movedBytes: 40 * MIB - held });
    expect(sha256(join(into, "to-download.bin"))).toBe(sha256(source));
    expect(existsSync(part)).toBe(false);
  }, 120_000);
});

describe("a directory in one stream", () => {
  it("downloads many files, nested, an empty directory, a hard link, skipping the symlink and the pipe, every file checked", async () => {
    // Made in the session: a link and a pipe only a session can make, and many files at once.
    const made = await ozekai(
      [
        "exec",
        "--",
        "sh",
        "-c",
        "cd /workspace && mkdir -p stream/a/b/c stream/empty && for i in $(seq 1 400); do head -c $((i * 37 % 9000)) /dev/urandom > stream/a/f$i.bin; done && head -c 3000000 /dev/urandom > stream/a/b/c/big.bin && echo -n x > stream/x.txt && ln stream/x.txt stream/a/hard.txt && ln -s ../x.txt stream/a/link && mkfifo stream/pipe && cd stream && find . -type f -exec sha256sum {} +",
      ],
      { configDir: user.configDir },
    );
    expect(made.code, shown(made)).toBe(0);
    const remote = Object.fromEntries(made.stdout.trim().split(/\r?\n/).map((line) => line.trim().split(/\s+\.\//).reverse()));
    expect(Object.keys(remote)).toHaveLength(403);
    const into = join(work, "streamed");
    mkdirSync(into);
    const ran = await ozekai(["download", "stream", into, "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    const doc = filesOf(ran);
    expect(doc.summary).toMatchObject({ files: 405, downloaded: 403, skipped: 2, failed: 0 });
    const files = byRemote(doc);
    for (const [name, sha] of Object.entries(remote)) {
      expect(sha256(join(into, "stream", name)), name).toBe(sha);
      expect(files[`stream/${name}`], name).toMatchObject({ status: "downloaded", sha256: sha, local: join(into, "stream", name) });
    }
    expect(files["stream/a/link"]).toMatchObject({ status: "skipped", reason: "a symbolic link to ../x.txt: not followed" });
    expect(files["stream/pipe"]).toMatchObject({ status: "skipped", reason: expect.stringMatching(/not a regular file/) });
    expect(ran.stderr).toMatch(/skipped .*stream\/a\/link: a symbolic link to \.\.\/x\.txt: not followed/);
    expect(statSync(join(into, "stream/empty")).isDirectory()).toBe(true);
    expect(existsSync(join(into, "stream/a/link"))).toBe(false);
    const all = readdirSync(into, { recursive: true }) as string[];
    expect(all.filter((name) => name.endsWith(".ozekai-part") || name.includes(".ozekai-manifest"))).toEqual([]);
    // The human output: one line per file on stdout, the summary on stderr.
    const human = await ozekai(["download", "stream/a/b", join(work, "streamed-human")], { configDir: user.configDir });
    expect(human.code, shown(human)).toBe(0);
    expect(human.stdout.trim()).toBe(`${join(work, "streamed-human")}/c/big.bin  stream/a/b/c/big.bin  downloaded`);
    expect(human.stderr).toMatch(/downloaded 1, resumed 0, unchanged 0, skipped 0, failed 0/);
  }, 120_000);

  it("a file whose bytes changed on the way fails its SHA-256 check (exit 1) and is not left under its name; the others are kept", async () => {
    const marker = "ORIGINAL-BYTES-OF-THIS-FILE-0123456789";
    const made = await ozekai(["exec", "--", "sh", "-c", `mkdir -p /workspace/tamper && printf '%s' '${marker}' > /workspace/tamper/victim.txt && echo -n fine > /workspace/tamper/fine.txt`], { configDir: user.configDir });
    expect(made.code, shown(made)).toBe(0);
    const proxy = await startProxy({ tamper: { from: marker, to: marker.replace("ORIGINAL", "TAMPERED") } });
    try {
      await logIn(user, proxy.url);
      const into = join(work, "tampered");
      mkdirSync(into);
      const ran = await ozekai(["--api-url", proxy.url, "download", "tamper", into, "--json"], { configDir: user.configDir });
      expect(ran.code, shown(ran)).toBe(1);
      const files = byRemote(filesOf(ran));
      expect(files["tamper/victim.txt"]).toMatchObject({ status: "failed", reason: expect.stringMatching(/SHA-256 mismatch/) });
      expect(files["tamper/fine.txt"]).toMatchObject({ status: "downloaded" });
      expect(existsSync(join(into, "tamper/victim.txt"))).toBe(false);
      expect(existsSync(join(into, "tamper/victim.txt.ozekai-part"))).toBe(false);
      expect(readFileSync(join(into, "tamper/fine.txt"), "utf8")).toBe("fine");
      expect(jsonOf(ran).error).toMatchObject({ message: expect.stringMatching(/1 of 2 files failed/) });
    } finally {
      await proxy.close();
    }
  }, 60_000);
});

describe("rm", () => {
  it("removes a file, refuses a directory that is not empty without -r (exit 5), removes it with -r", async () => {
    const file = await ozekai(["rm", "project/nested/note.md", "--json"], { configDir: user.configDir });
    expect(file.code, shown(file)).toBe(0);
    expect(jsonOf(file).data).toEqual({ removed: [{ path: "project/nested/note.md", type: "file" }] });
    expect(await remoteFile(token, "project/nested/note.md", false)).toBeUndefined();

    const refused = await ozekai(["rm", "project"], { configDir: user.configDir });
    expect(refused.code, shown(refused)).toBe(5);
    expect(refused.stderr).toMatch(/project is a directory that is not empty: add -r/);
    noStackTrace(refused.stderr);
    expect(await remoteFile(token, "project/mid.bin", false)).toBeDefined();

    const removed = await ozekai(["rm", "-r", "project", "--json"], { configDir: user.configDir });
    expect(removed.code, shown(removed)).toBe(0);
    expect(jsonOf(removed).data).toEqual({ removed: [{ path: "project", type: "dir" }] });
    const gone = await ozekai(["ls", "project", "--json"], { configDir: user.configDir });
    expect(gone.code, shown(gone)).toBe(4);
  });

  it("a path that is not there is not found (exit 4)", async () => {
    const ran = await ozekai(["rm", "no/such/file", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(4);
    expect(jsonOf(ran).error).toMatchObject({ kind: "not_found", exitCode: 4 });
    noStackTrace(ran.stderr);
  });
});

describe("bad input", () => {
  it("a missing local file: exit 4 with its name, nothing sent", async () => {
    const ran = await ozekai(["upload", "does-not-exist.bin", "--json"], { configDir: user.configDir, cwd: work });
    expect(ran.code, shown(ran)).toBe(4);
    expect(jsonOf(ran).error).toMatchObject({ kind: "not_found", message: "does-not-exist.bin: no such file or directory here." });
    noStackTrace(ran.stderr);
  });

  it("a remote path that is not there: exit 4", async () => {
    const ran = await ozekai(["download", "nothing/here.bin", work, "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(4);
    expect(jsonOf(ran).error).toMatchObject({ kind: "not_found" });
    const ls = await ozekai(["ls", "nothing"], { configDir: user.configDir });
    expect(ls.code, shown(ls)).toBe(4);
    noStackTrace(ran.stderr + ls.stderr);
  });

  it("'..' in a workspace path and a bad --limit-rate are usage errors (exit 2)", async () => {
    const dots = await ozekai(["ls", "../etc", "--json"], { configDir: user.configDir });
    expect(dots.code, shown(dots)).toBe(2);
    const rate = await ozekai(["upload", "big.bin", "--limit-rate", "fast", "--json"], { configDir: user.configDir, cwd: work });
    expect(rate.code, shown(rate)).toBe(2);
    expect(jsonOf(rate).error?.message).toMatch(/--limit-rate/);
  });

  it("not signed in: every file command says so (exit 3)", async () => {
    const configDir = newConfigDir();
    for (const args of [["upload", "big.bin"], ["download", "big.bin"], ["ls"], ["rm", "big.bin"]]) {
      const ran = await ozekai([...args, "--json"], { configDir, cwd: work });
      expect(ran.code, `${args[0]}: ${shown(ran)}`).toBe(3);
      expect(jsonOf(ran).error).toMatchObject({ kind: "not_signed_in", exitCode: 3 });
      expect(ran.stderr).toMatch(/Not signed in/);
      noStackTrace(ran.stderr);
    }
  });

  it("a user who never connected has no workspace: exit 4 with what to do", async () => {
    const other = await entitledUser();
    writeFileSync(join(work, "tiny.txt"), "x");
    const ran = await ozekai(["upload", "tiny.txt", "--json"], { configDir: other.configDir, cwd: work });
    expect(ran.code, shown(ran)).toBe(4);
    expect(jsonOf(ran).error?.message).toMatch(/no workspace yet.*ozekai connect/);
  });
});
