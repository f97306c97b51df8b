/** Raw calls for file transfers and the shell: bodies as bytes, headers as sent, WebSockets. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../workers/index";
import { BASE, randomIp, testEnv } from "./harness";

export interface RawOptions {
  token?: string;
  body?: BodyInit;
  headers?: Record<string, string>;
  env?: Cloudflare.Env;
}

/** Calls the Worker and reads the body as bytes (files are not text). */
export async function rawCall(method: string, path: string, options: RawOptions = {}) {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  headers.set("CF-Connecting-IP", randomIp());
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${BASE}${path}`, { method, headers, body: options.body }) as Request<unknown, IncomingRequestCfProperties>, options.env ?? testEnv(), ctx);
  const bytes = response.webSocket ? new Uint8Array() : new Uint8Array(await response.arrayBuffer());
  await waitOnExecutionContext(ctx);
  const text = new TextDecoder().decode(bytes);
  // biome-ignore lint/suspicious/noExplicitAny: test bodies are asserted field by field
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, bytes, text, json, webSocket: response.webSocket };
}

export const sha256Hex = async (data: Uint8Array) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");

export const randomBytes = (n: number) => {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
};

/** The entries of a tar archive (ustar): name → content. */
export function untar(data: Uint8Array): Map<string, Uint8Array> {
  const entries = new Map<string, Uint8Array>();
  const text = (from: number, length: number) => new TextDecoder().decode(data.subarray(from, from + length)).replace(/\0.*$/s, "");
  for (let offset = 0; offset + 512 <= data.length; ) {
    const name = text(offset, 100);
    if (name === "") break;
    const prefix = text(offset + 345, 155);
    const size = Number.parseInt(text(offset + 124, 12).trim() || "0", 8);
    entries.set(prefix ? `${prefix}/${name}` : name, data.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** A ustar archive of `entries` (a test's own: names under 100 bytes), each a file unless it says otherwise. */
export function tarOf(entries: { name: string; data?: Uint8Array; type?: "file" | "directory" | "symlink" | "char-device"; linkname?: string }[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, "0")}\0`;
  for (const { name, data = new Uint8Array(), type = "file", linkname = "" } of entries) {
    const header = new Uint8Array(512);
    const write = (text: string, at: number) => header.set(new TextEncoder().encode(text), at);
    write(name, 0);
    write(octal(type === "directory" ? 0o755 : 0o644, 8), 100);
    write(octal(0, 8), 108);
    write(octal(0, 8), 116);
    write(octal(type === "file" ? data.length : 0, 12), 124);
    write(octal(Math.floor(Date.now() / 1000), 12), 136);
    write("        ", 148);
    write({ file: "0", directory: "5", symlink: "2", "char-device": "3" }[type], 156);
    write(linkname, 157);
    write("ustar\u000000", 257);
    write(octal(header.reduce((sum, byte) => sum + byte, 0), 7), 148);
    blocks.push(header);
    if (type === "file") {
      const body = new Uint8Array(Math.ceil(data.length / 512) * 512);
      body.set(data);
      blocks.push(body);
    }
  }
  blocks.push(new Uint8Array(1024));
  const out = new Uint8Array(blocks.reduce((sum, block) => sum + block.length, 0));
  let at = 0;
  for (const block of blocks) {
    out.set(block, at);
    at += block.length;
  }
  return out;
}
