/** Streaming a local file up as a raw request body, and a response body down into a local file. */
import { createReadStream, createWriteStream } from "node:fs";
import { type IncomingMessage, request as httpRequest } from "node:http";
import { pipeline } from "node:stream/promises";
export const MIB = 2 ** 20;
/** A transfer may take this long per MiB (plus a minute) before it is abandoned: ≥ ~2 MB/s. */
const TRANSFER_MS_PER_MIB = 500;

export const transferTimeout = (bytes: number) => 60_000 + (bytes / MIB) * TRANSFER_MS_PER_MIB;

export interface TransferResult {
  status: number;
  bytes: number;
  ms: number;
  text: string;
}

/** An answer's body as text (its first 100,000 characters). */
function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      text = (text + chunk).slice(0, 100_000);
    });
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}

/** Streams a local file as the raw body of one request; resolves with the answer once it is read. */
export function httpUpload(url: string, token: string, file: string, size: number, headers: Record<string, string> = {}): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(
      url,
      { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream", "Content-Length": String(size), ...headers } },
      (res) => readText(res).then((text) => resolve({ status: res.statusCode ?? 0, bytes: size, ms: performance.now() - started, text }), reject),
    );
    req.setTimeout(transferTimeout(size), () => req.destroy(new Error(`upload timed out after ${transferTimeout(size)} ms`)));
    req.on("error", reject);
    // An early answer (413, 404) ends the body mid-way: the answer is what counts then.
    pipeline(createReadStream(file, { highWaterMark: MIB }), req).catch(() => undefined);
  });
}

/** Streams one response body into a local file. */
export function httpDownload(url: string, token: string, dest: string, expected: number): Promise<TransferResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = httpRequest(url, { method: "GET", headers: { Authorization: `Bearer ${token}` } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        readText(res).then((text) => resolve({ status, bytes: 0, ms: performance.now() - started, text }), reject);
        return;
      }
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
      });
      pipeline(res, createWriteStream(dest, { highWaterMark: MIB })).then(
        () => resolve({ status, bytes, ms: performance.now() - started, text: "" }),
        reject,
      );
    });
    req.setTimeout(transferTimeout(expected), () => req.destroy(new Error(`download timed out after ${transferTimeout(expected)} ms`)));
    req.on("error", reject);
    req.end();
  });
}
