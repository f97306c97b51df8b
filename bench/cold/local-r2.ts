/**
 * Local R2 alone: the same bytes put as a multipart upload (parts of the archive's size, as many in
 * flight as the archive sends) and read back as ranges of that size, by a Worker that does nothing
 * else, under Miniflare with an R2 bucket persisted on this machine's disk — the R2 the archive and
 * the restore use locally (a SQLite index and blob files), without the host, D1 or any checks.
 * What it reaches bounds the Worker side of the cold-storage path here; production has R2 itself.
 */
import { createReadStream } from "node:fs";
import { get as httpGet } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { HOST } from "../lib/settings.ts";
import { timed } from "../lib/time.ts";
import { freePort } from "../lib/processes.ts";

const WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, op, key, n] = url.pathname.split("/");
    if (op === "create") return Response.json({ uploadId: (await env.R2.createMultipartUpload(key)).uploadId });
    if (op === "part") {
      const upload = env.R2.resumeMultipartUpload(key, url.searchParams.get("id"));
      const fixed = new FixedLengthStream(Number(request.headers.get("content-length")));
      const [part] = await Promise.all([upload.uploadPart(Number(n), fixed.readable), request.body.pipeTo(fixed.writable)]);
      return Response.json(part);
    }
    if (op === "complete") {
      const upload = env.R2.resumeMultipartUpload(key, url.searchParams.get("id"));
      await upload.complete(await request.json());
      return new Response(null, { status: 204 });
    }
    if (op === "get") {
      const object = await env.R2.get(key, { range: { offset: Number(url.searchParams.get("offset")), length: Number(url.searchParams.get("length")) } });
      return new Response(object.body);
    }
    return new Response("no", { status: 404 });
  },
};`;

/** Up `bytes` of `file` in `partSize` parts, `parallel` at a time, then down as ranges of that size, `parallel` asked at once. */
export async function localR2Alone(tmp: string, file: string, bytes: number, partSize: number, parallel: number): Promise<{ putMs: number; getMs: number }> {
  const port = await freePort();
  const mf = new Miniflare(convertV4MiniflareOptions({ host: HOST, port, modules: true, script: WORKER, r2Buckets: ["R2"], r2Persist: join(tmp, "local-r2-alone"), compatibilityDate: "2026-10-01" }));
  try {
    const base = (await mf.ready).toString().replace(/\/$/, "");
    const count = Math.ceil(bytes / partSize);
    const { uploadId } = (await (await fetch(`${base}/create/blob`, { method: "POST" })).json()) as { uploadId: string };
    const put = await timed(async () => {
      const parts: unknown[] = new Array(count);
      let next = 0;
      const sender = async () => {
        for (let i = next++; i < count; i = next++) {
          const start = i * partSize;
          const length = Math.min(partSize, bytes - start);
          const body = Readable.toWeb(createReadStream(file, { start, end: start + length - 1, highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
          const init: RequestInit & { duplex: "half" } = { method: "PUT", body, headers: { "content-length": String(length) }, duplex: "half" };
          const res = await fetch(`${base}/part/blob/${i + 1}?id=${uploadId}`, init);
          if (!res.ok) throw new Error(`local R2 part ${i + 1}: ${res.status}`);
          parts[i] = await res.json();
        }
      };
      await Promise.all(Array.from({ length: parallel }, sender));
      const done = await fetch(`${base}/complete/blob?id=${uploadId}`, { method: "POST", body: JSON.stringify(parts) });
      if (done.status !== 204) throw new Error(`local R2 complete: ${done.status}`);
    });
    const get = await timed(async () => {
      let next = 0;
      const reader = async () => {
        for (let i = next++; i < count; i = next++) {
          const offset = i * partSize;
          // node:http, as the provisioner reads what the restore sends it (fetch's web stream is slower here).
          await new Promise<void>((resolve, reject) => {
            httpGet(`${base}/get/blob?offset=${offset}&length=${Math.min(partSize, bytes - offset)}`, (res) => {
              if (res.statusCode !== 200) reject(new Error(`local R2 range ${i + 1}: ${res.statusCode}`));
              res.on("data", () => undefined); // read and dropped: the restore pipes it on
              res.on("end", resolve);
              res.on("error", reject);
            }).on("error", reject);
          });
        }
      };
      await Promise.all(Array.from({ length: parallel }, reader));
    });
    return { putMs: put.ms, getMs: get.ms };
  } finally {
    await mf.dispose();
  }
}
