/**
 * The provisioner alone, reached straight (signed as the Worker signs): the host's share of an
 * archive (stage, then every part read, as the Worker reads them) and of a restore (the staged
 * bytes into a fresh workspace through the verified import), without the Worker or R2.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { RUN_ID, trackVolume } from "../lib/docker.ts";
import type { HostApi } from "../lib/stack.ts";
import { timed } from "../lib/time.ts";
import { httpUpload } from "../lib/transfer.ts";

type Manifest = { size: number; sha256: string; partSize: number; partHashes: string[] };

export interface HostAlone {
  stageMs: number;
  partsMs: number;
  importMs: number;
  /** The stage's size: what crosses the network and lies in R2. */
  stagedBytes: number;
}

/** Reads every part of the stage into `file` at its offset, `parallel` requests at a time. */
async function readParts(host: HostApi, workspaceId: string, manifest: Manifest, file: string, parallel: number) {
  const out = await open(file, "w");
  try {
    let next = 1;
    const worker = async () => {
      for (let n = next++; n <= manifest.partHashes.length; n = next++) {
        const target = `/v1/workspaces/${workspaceId}/exports/parts/${n}`;
        const res = await fetch(`${host.url}${target}`, { headers: { Authorization: `Bearer ${await host.token("GET", target)}` } });
        if (res.status !== 200 || !res.body) throw new Error(`GET ${target}: ${res.status}`);
        let position = (n - 1) * manifest.partSize;
        for await (const chunk of res.body) {
          await out.write(chunk, 0, chunk.byteLength, position);
          position += chunk.byteLength;
        }
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    await out.close();
  }
}

/** Stages the workspace in `partSize` parts and reads every part into `file`, `parallel` at a time; each timed, the stage dropped after. */
export async function stageAndRead(host: HostApi, workspaceId: string, tag: string, file: string, partSize: number, parallel: number) {
  const exportsPath = `/v1/workspaces/${workspaceId}/exports`;
  const stageId = `bench-${RUN_ID}-${tag}`;
  const stage = await timed(async () => {
    for (;;) {
      const answer = await host.call("POST", exportsPath, { stageId, partSize });
      if (answer.status === 200) return answer.json as Manifest;
      if (answer.status !== 202) throw new Error(`POST ${exportsPath}: ${answer.status} ${JSON.stringify(answer.json)}`);
    }
  });
  const parts = await timed(() => readParts(host, workspaceId, stage.value, file, parallel));
  await host.call("DELETE", exportsPath);
  return { manifest: stage.value, stageMs: stage.ms, partsMs: parts.ms };
}

/** Stage, read the parts (`parallel` at a time), import the staged bytes into a fresh workspace; each timed; everything made is removed. */
export async function hostAlone(host: HostApi, workspaceId: string, tag: string, tmp: string, partSize: number, parallel: number): Promise<HostAlone> {
  const staged = join(tmp, "staged.bin");
  const { manifest, stageMs, partsMs } = await stageAndRead(host, workspaceId, tag, staged, partSize, parallel);
  const restored = `bench-restore-${RUN_ID}-${tag}`;
  trackVolume(`ozk-ws-${restored}`);
  const put = `/v1/workspaces/${restored}/archive`;
  const token = await host.token("PUT", put, { length: manifest.size, sha256: manifest.sha256 });
  const imported = await httpUpload(`${host.url}${put}`, token, staged, manifest.size, { "Content-Type": "application/x-tar", "X-Archive-Sha256": manifest.sha256 });
  if (imported.status !== 200) throw new Error(`PUT ${put}: ${imported.status} ${imported.text}`);
  const removed = await host.call("DELETE", `/v1/workspaces/${restored}`);
  if (removed.status !== 204) throw new Error(`DELETE ${restored}: ${removed.status}`);
  return { stageMs, partsMs, importMs: imported.ms, stagedBytes: manifest.size };
}
