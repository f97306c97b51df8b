/**
 * What each step of the cold-storage path costs alone, on the same bytes: SHA-256 in Node, Docker's
 * archive API reading the volume, and zstd at several levels on incompressible bytes (the
 * workspace's random file, like model weights) and on compressible ones (this repository's own
 * text files, like code and data).
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_LABEL, dockerOk } from "../lib/docker.ts";
import { ROOT, WORKSPACE_IMAGE } from "../lib/settings.ts";
import { timed } from "../lib/time.ts";

/** zstd's levels compared, each with `threads` worker threads (-T). */
export const ZSTD_LEVELS = [1, 3, 6];

/** Runs `command args` with stdin from `input` (a file) and stdout counted; exit 0 required. */
function piped(command: string, args: string[], input: string): Promise<{ ms: number; outBytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const fd = openSync(input, "r");
    const child = spawn(command, args, { stdio: [fd, "pipe", "inherit"] });
    closeSync(fd);
    let outBytes = 0;
    child.stdout?.on("data", (chunk: Buffer) => {
      outBytes += chunk.length;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ ms: performance.now() - started, outBytes }) : reject(new Error(`${command} ${args.join(" ")} exited with ${code}`))));
  });
}

export async function sha256Ms(file: string): Promise<number> {
  return (
    await timed(async () => {
      const hash = createHash("sha256");
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
      return hash.digest("hex");
    })
  ).ms;
}

/** Docker's archive API (what the provisioner's stage reads): `docker cp` of the volume out, as a tar, into nothing. */
export async function dockerArchiveReadMs(volume: string): Promise<number> {
  const created = await dockerOk(["create", "--label", BENCH_LABEL, "--network", "none", "-v", `${volume}:/w:ro`, WORKSPACE_IMAGE]);
  const id = created.stdout.trim();
  try {
    return (await piped("docker", ["cp", `${id}:/w/.`, "-"], "/dev/null")).ms;
  } finally {
    await dockerOk(["rm", "-f", id]);
  }
}

/** `bytes` of this repository's tracked text files (code, docs, data), repeated as needed. */
export function writeTextCorpus(path: string, bytes: number) {
  const files = execFileSync("git", ["ls-files", "*.ts", "*.tsx", "*.md", "*.json", "*.sql", "*.css"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n");
  const text = Buffer.concat(files.map((file) => readFileSync(join(ROOT, file))));
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += text.length) text.copy(out, at, 0, Math.min(text.length, bytes - at));
  writeFileSync(path, out);
}

export interface LevelRow {
  data: "random" | "text";
  level: number;
  bytes: number;
  compressMs: number;
  decompressMs: number;
  ratio: number;
}

/** Each level on each file: compression and decompression time, and the ratio. */
export async function zstdLevels(files: { data: LevelRow["data"]; path: string; bytes: number }[], threads: number, tmp: string): Promise<LevelRow[]> {
  const rows: LevelRow[] = [];
  for (const { data, path, bytes } of files) {
    for (const level of ZSTD_LEVELS) {
      const compressed = join(tmp, `level-${level}.zst`);
      const out = openSync(compressed, "w");
      const compress = await new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const child = spawn("zstd", ["-q", `-${level}`, `-T${threads}`, "-c", path], { stdio: ["ignore", out, "inherit"] });
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`zstd exited with ${code}`))));
      });
      closeSync(out);
      const decompress = await piped("zstd", ["-q", "-d", "-c"], compressed);
      const size = Number(execFileSync("stat", ["-c", "%s", compressed], { encoding: "utf8" }).trim());
      rows.push({ data, level, bytes, compressMs: compress, decompressMs: decompress.ms, ratio: bytes / size });
    }
  }
  return rows;
}
