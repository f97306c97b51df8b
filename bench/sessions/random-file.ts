/** The files transferred: incompressible bytes, checked by sha256 outside the timed parts. */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, createReadStream, openSync, writeSync } from "node:fs";
import { pipeline } from "node:stream/promises";
import { MIB } from "../lib/transfer.ts";
/** A file of `sizeMb` MiB of incompressible bytes; returns its sha256 (computed while writing, untimed). */
export function makeFile(path: string, sizeMb: number): string {
  const block = randomBytes(MIB);
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const hash = createHash("sha256");
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < sizeMb; i++) {
      view.setUint32(0, i); // no two MiB alike
      for (let off = 4096; off < MIB; off += 4096) view.setUint32(off, (i * 2654435761 + off) >>> 0);
      writeSync(fd, block);
      hash.update(block);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path, { highWaterMark: MIB }), hash);
  return hash.digest("hex");
}
