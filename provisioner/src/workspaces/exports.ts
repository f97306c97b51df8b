/**
 * Staged workspace exports for cold storage (docs/decisions/0010-cold-storage.md). The Worker
 * uploads a workspace to R2 in fixed-size parts over many cron ticks; a tar streamed from Docker
 * cannot be re-read from the middle, and two reads of a live volume need not give the same bytes.
 * So the tar is staged once into a host-local file (a snapshot), compressed with zstd
 * (compression.ts), with the SHA-256 of the whole and of every part of what was written: each part
 * the Worker fetches can be fetched again, and verified, after any fault.
 *
 * A stage is a snapshot only while nothing writes to the volume: staging is refused while any
 * container mounts it, and creating a session container discards the stage (and any staging in
 * progress). The provisioner never looks inside the tar (policy §3): bytes and hashes only.
 */
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { workspaceVolumeName } from "../containers/spec.ts";
import { ProvisionerError } from "../errors.ts";
import type { Services } from "../services.ts";
import { openArchiveExport } from "./archive.ts";
import { compress } from "./compression.ts";
import { requireWorkspaceVolume } from "./volumes.ts";

/** What a complete stage is: the tar beside it has exactly `size` bytes. */
export type ExportManifest = {
  /** Chosen by the Worker, one per archive attempt: a stage made for an earlier attempt is never reused. */
  stageId: string;
  partSize: number;
  size: number;
  sha256: string;
  /** SHA-256 of part 1, 2, … (the last one may be shorter; an empty tar still has one part). */
  partHashes: string[];
};

export type StageAnswer = ({ status: "staged" } & ExportManifest) | { status: "staging"; stageId: string; stagedBytes: number };

type Staging = { stageId: string; partSize: number; done: Promise<ExportManifest>; progress: { bytes: number } };

/** Per provisioner: stagings in progress, and a generation per workspace that a discard bumps. */
type Registry = { staging: Map<string, Staging>; generations: Map<string, number> };
const registries = new WeakMap<Services, Registry>();

function registry(services: Services): Registry {
  let found = registries.get(services);
  if (!found) {
    found = { staging: new Map(), generations: new Map() };
    registries.set(services, found);
  }
  return found;
}

const generation = (services: Services, workspaceId: string) => registry(services).generations.get(workspaceId) ?? 0;

const exportsDir = (services: Services) => join(services.config.stateDir, "exports");
const tarPath = (services: Services, workspaceId: string) => join(exportsDir(services), `${workspaceId}.tar`);
const manifestPath = (services: Services, workspaceId: string) => join(exportsDir(services), `${workspaceId}.json`);
/** Files being written: a provisioner killed mid-way leaves only these, discarded on the next start. */
const isTempOf = (workspaceId: string, name: string) => name.startsWith(`${workspaceId}.`) && name.endsWith(".partial");

const notFound = (error: unknown) => typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";

/** The complete stage of the workspace, or null (none, or one a crash left half-written). */
export async function readStage(services: Services, workspaceId: string): Promise<ExportManifest | null> {
  try {
    const manifest = JSON.parse(await readFile(manifestPath(services, workspaceId), "utf8")) as ExportManifest;
    const { size } = await stat(tarPath(services, workspaceId));
    return size === manifest.size ? manifest : null;
  } catch (error) {
    if (notFound(error) || error instanceof SyntaxError) return null;
    throw error;
  }
}

async function removeStageFiles(services: Services, workspaceId: string): Promise<void> {
  const dir = exportsDir(services);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (notFound(error)) return;
    throw error;
  }
  const mine = names.filter((name) => name === `${workspaceId}.tar` || name === `${workspaceId}.json` || isTempOf(workspaceId, name));
  await Promise.all(mine.map((name) => rm(join(dir, name), { force: true })));
}

/**
 * Stages the workspace's tar for an archive attempt, or reports the stage made already for it.
 * Staging goes on in the background: the answer waits up to `waitMs`, then says how far it got
 * (the Worker asks again on its next tick). Idempotent for one `stageId` and `partSize`.
 */
export async function stageExport(services: Services, workspaceId: string, input: { stageId: string; partSize: number }, waitMs: number): Promise<StageAnswer> {
  const { staging } = registry(services);
  let job = staging.get(workspaceId);
  if (job && (job.stageId !== input.stageId || job.partSize !== input.partSize)) {
    await discardExport(services, workspaceId); // staging for an attempt the Worker gave up
    job = undefined;
  }
  if (!job) {
    const stage = await readStage(services, workspaceId);
    if (stage && stage.stageId === input.stageId && stage.partSize === input.partSize) return { status: "staged", ...stage };
    job = startStaging(services, workspaceId, input);
  }
  const current = job;
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<StageAnswer>((resolve) => {
    timer = setTimeout(() => resolve({ status: "staging", stageId: current.stageId, stagedBytes: current.progress.bytes }), waitMs);
  });
  try {
    return await Promise.race([current.done.then((manifest): StageAnswer => ({ status: "staged", ...manifest })), waited]);
  } finally {
    clearTimeout(timer);
  }
}

function startStaging(services: Services, workspaceId: string, input: { stageId: string; partSize: number }): Staging {
  const { staging } = registry(services);
  const progress = { bytes: 0 };
  const done = writeStage(services, workspaceId, input, progress).finally(() => {
    if (staging.get(workspaceId) === job) staging.delete(workspaceId);
  });
  done.catch(() => undefined); // nobody may be waiting: the next request starts it again
  const job: Staging = { ...input, progress, done };
  staging.set(workspaceId, job);
  return job;
}

async function writeStage(services: Services, workspaceId: string, input: { stageId: string; partSize: number }, progress: { bytes: number }): Promise<ExportManifest> {
  await requireWorkspaceVolume(services, workspaceId);
  // Serialized with container creation: either this sees the session's container and refuses, or
  // the creation comes later and bumps the generation, which discards this stage.
  const startedAt = await services.allocation.run(async () => {
    const users = await services.docker.listContainers({ all: true, filters: { volume: [workspaceVolumeName(workspaceId)] } });
    if (users.length > 0) throw new ProvisionerError("workspace_in_use", "a container mounts the workspace: no snapshot can be taken");
    return generation(services, workspaceId);
  });
  const discarded = () => generation(services, workspaceId) !== startedAt;
  await removeStageFiles(services, workspaceId);
  await mkdir(exportsDir(services), { recursive: true, mode: 0o700 });
  const temp = join(exportsDir(services), `${workspaceId}.${randomBytes(6).toString("hex")}.tar.partial`);
  try {
    const archive = await openArchiveExport(services, workspaceId);
    const hashed = await writeHashed(compress(archive), temp, input.partSize, progress, () => {
      if (discarded()) throw new ProvisionerError("workspace_in_use", "a session container was made for the workspace while it was staged");
    }).finally(() => archive.released); // the volume is free again (it may be deleted next) once staged
    if (discarded()) throw new ProvisionerError("workspace_in_use", "a session container was made for the workspace while it was staged");
    const manifest: ExportManifest = { stageId: input.stageId, partSize: input.partSize, ...hashed };
    // The tar first, then its manifest: a manifest always describes a tar that is whole.
    await rename(temp, tarPath(services, workspaceId));
    const manifestTemp = `${temp}.json.partial`;
    await writeFile(manifestTemp, JSON.stringify(manifest), { mode: 0o600 });
    await rename(manifestTemp, manifestPath(services, workspaceId));
    return manifest;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Writes the stream to `path` (synced to disk), hashing the whole and each `partSize` part as it goes. */
async function writeHashed(source: Readable, path: string, partSize: number, progress: { bytes: number }, check: () => void) {
  const out = createWriteStream(path, { flags: "wx", mode: 0o600 });
  const whole = createHash("sha256");
  const partHashes: string[] = [];
  let part = createHash("sha256");
  let inPart = 0;
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      check();
      whole.update(chunk);
      for (let offset = 0; offset < chunk.length; ) {
        const take = Math.min(partSize - inPart, chunk.length - offset);
        part.update(chunk.subarray(offset, offset + take));
        inPart += take;
        offset += take;
        if (inPart === partSize) {
          partHashes.push(part.digest("hex"));
          part = createHash("sha256");
          inPart = 0;
        }
      }
      size += chunk.length;
      progress.bytes = size;
      if (!out.write(chunk)) await once(out, "drain");
    }
    if (inPart > 0 || partHashes.length === 0) partHashes.push(part.digest("hex"));
    out.end();
    await once(out, "finish");
  } catch (error) {
    source.destroy();
    out.destroy();
    throw error;
  }
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, sha256: whole.digest("hex"), partHashes };
}

/** Part `n` (from 1) of the workspace's stage, as a stream, with its length. */
export async function openExportPart(services: Services, workspaceId: string, n: number): Promise<{ stream: Readable; length: number }> {
  const stage = await readStage(services, workspaceId);
  if (!stage) throw new ProvisionerError("export_not_found");
  if (!Number.isSafeInteger(n) || n < 1 || n > stage.partHashes.length) throw new ProvisionerError("range_not_satisfiable", `the stage has ${stage.partHashes.length} parts`);
  const start = (n - 1) * stage.partSize;
  const length = Math.min(stage.partSize, stage.size - start);
  // An empty range cannot be asked of createReadStream (end is inclusive): an empty tar has no bytes.
  const stream = createReadStream(tarPath(services, workspaceId), length > 0 ? { start, end: start + length - 1 } : { start: 0, end: -1 });
  return { stream, length };
}

/**
 * Removes the workspace's stage and stops any staging in progress. Called by the Worker once the
 * cold copy is committed, when a session container is made for the workspace (the volume changes
 * from then on) and when the workspace is deleted. Idempotent.
 */
export async function discardExport(services: Services, workspaceId: string): Promise<void> {
  const { staging, generations } = registry(services);
  generations.set(workspaceId, generation(services, workspaceId) + 1);
  // Let a staging in progress see the new generation and stop, so it cannot rename its files after these are removed.
  await staging.get(workspaceId)?.done.catch(() => undefined);
  await removeStageFiles(services, workspaceId);
}
