/**
 * zstd for cold storage (docs/decisions/0035-cold-storage-compression-and-parts.md): a stage is the
 * workspace's tar compressed by the host's `zstd` binary (Debian's package), so fewer bytes cross
 * the network and lie in R2. A restore reads both a zstd stage and a plain tar made before
 * compression, told apart by zstd's frame magic (a tar starts with an entry's name, never with it).
 */
import { spawn } from "node:child_process";
import { PassThrough, type Readable } from "node:stream";

/**
 * Level 1 with 2 threads: on code and text about 4× smaller at ~300 MB/s, random bytes (weights)
 * at ~1 GB/s; level 3 gained ~13 % on text for 1.5–3× the CPU (bench:cold prints the levels).
 */
export const ZSTD_COMPRESS_ARGS = ["-q", "-1", "-T2", "-c"];
const ZSTD_DECOMPRESS_ARGS = ["-q", "-d", "-c"];

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** A fault of the zstd process (it refused the bytes, or could not run): the stream it fed fails with it. */
export class ZstdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ZstdError";
  }
}

/**
 * `source` through a zstd process. The output ends only once zstd exited 0, and fails otherwise;
 * destroying the output stops zstd. `abandon` is what becomes of `source` when zstd stops before
 * its end: destroyed (a stage stops reading Docker), or drained (a restore reads its client's body
 * to the end, so its client can read the error answer).
 */
function throughZstd(args: string[], source: Readable, abandon: (source: Readable) => void): Readable {
  const child = spawn("zstd", args, { stdio: ["pipe", "pipe", "pipe"] });
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  // zstd may fail before the consumer listens (a restore makes its volume first): the consumer
  // still sees the failure (for await, finished()), and it is never an uncaught 'error'.
  out.on("error", () => undefined);
  let failure: Error | undefined;
  const stop = () => {
    source.unpipe(child.stdin);
    abandon(source);
  };
  child.stderr.resume(); // its words may quote a file's name: never logged (policy §3)
  child.on("error", (error) => {
    failure ??= new ZstdError(`zstd could not run: ${error.message}`);
    out.destroy(failure);
    stop();
  });
  child.stdin.on("error", stop); // zstd exited before reading everything (it refused the bytes)
  source.on("error", (error) => {
    failure ??= error;
    child.kill("SIGKILL");
  });
  source.pipe(child.stdin);
  child.stdout.pipe(out, { end: false });
  child.on("close", (code) => {
    if (code === 0 && !failure) return void out.end();
    out.destroy(failure ?? new ZstdError(`zstd exited with ${code ?? "a signal"}`));
    stop();
  });
  out.on("close", () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    stop();
  });
  return out;
}

export const compress = (source: Readable) => throughZstd(ZSTD_COMPRESS_ARGS, source, (stage) => stage.destroy());

/** Waits for more bytes, the end (a stream that ends emits no further 'readable') or a failure. */
function readableOrEnd(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off("readable", more);
      stream.off("end", more);
      stream.off("error", settle);
      stream.off("close", closed);
      if (error) reject(error);
      else resolve();
    };
    const more = () => settle();
    const closed = () => settle(stream.readableEnded ? undefined : new Error("the body was cut off"));
    stream.on("readable", more);
    stream.on("end", more);
    stream.on("error", settle);
    stream.on("close", closed);
  });
}

/** At least the first `n` bytes of `stream` (fewer at its end), put back so the stream still begins with them. */
async function peek(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < n && !stream.readableEnded) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
      continue;
    }
    await readableOrEnd(stream);
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) stream.unshift(head);
  return head;
}

/** A stage's bytes as a tar: decompressed when they are zstd, as they are when they are a plain tar (an older stage). */
export async function asTar(source: Readable): Promise<Readable> {
  const head = await peek(source, ZSTD_MAGIC.length);
  return head.subarray(0, ZSTD_MAGIC.length).equals(ZSTD_MAGIC) ? throughZstd(ZSTD_DECOMPRESS_ARGS, source, (body) => body.resume()) : source;
}
