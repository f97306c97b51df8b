/**
 * The cold-store adapter: the only code that talks to R2 (the WORKSPACES bucket). Any failure of
 * R2 is 503 `cold_storage_unavailable` (Retry-After): whatever the cold copy was, it still is.
 * Objects are workspace tars passed through as streams, never read here (policy §3).
 */
import { AppError } from "../domain/errors";

export interface ColdObject {
  size: number;
  /** The SHA-256 recorded when the archive was uploaded. */
  sha256: string | undefined;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

export interface ColdStore {
  head(key: string): Promise<ColdObject | null>;
  /** The object (its size and hash: the whole object's) with its bytes as R2 streams them, all or `range`. */
  get(key: string, range?: { offset: number; length: number }): Promise<(ColdObject & { body: ReadableStream<Uint8Array> }) | null>;
  /** Deleting what is not there is fine. */
  delete(key: string): Promise<void>;
  /** A multipart upload whose object carries `metadata`; its upload id. */
  createUpload(key: string, metadata: { sha256: string; sizeBytes: string }): Promise<string>;
  /** `body` must have a known length (a FixedLengthStream's readable). */
  uploadPart(key: string, uploadId: string, partNumber: number, body: ReadableStream<Uint8Array>): Promise<UploadedPart>;
  completeUpload(key: string, uploadId: string, parts: UploadedPart[]): Promise<void>;
  /** Aborts an upload in progress; one already completed or aborted is fine (R2 expires leftovers on its own). */
  abortUpload(key: string, uploadId: string): Promise<void>;
}

const unavailable = (detail: string) => new AppError("cold_storage_unavailable", detail);

async function r2<T>(operation: () => Promise<T>, detail = "Cold storage did not answer; your workspace is kept there. Try again shortly."): Promise<T> {
  try {
    return await operation();
  } catch {
    throw unavailable(detail);
  }
}

const describe = (object: R2Object): ColdObject => ({ size: object.size, sha256: object.customMetadata?.sha256 });

export function coldStore(bucket: R2Bucket): ColdStore {
  return {
    head: (key) => r2(async () => {
      const object = await bucket.head(key);
      return object ? describe(object) : null;
    }),
    get: (key, range) => r2(async () => {
      const object = await bucket.get(key, range ? { range } : undefined);
      return object ? { ...describe(object), body: object.body } : null;
    }),
    delete: (key) => r2(() => bucket.delete(key), "Cold storage did not answer; your workspace is not deleted yet. Try again shortly."),
    createUpload: (key, metadata) => r2(async () => (await bucket.createMultipartUpload(key, { customMetadata: metadata })).uploadId),
    uploadPart: (key, uploadId, partNumber, body) => r2(() => bucket.resumeMultipartUpload(key, uploadId).uploadPart(partNumber, body)),
    completeUpload: (key, uploadId, parts) => r2(async () => {
      await bucket.resumeMultipartUpload(key, uploadId).complete(parts);
    }),
    async abortUpload(key, uploadId) {
      try {
        await bucket.resumeMultipartUpload(key, uploadId).abort();
      } catch {
        // Already completed or aborted: nothing left to abort.
      }
    },
  };
}
