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
