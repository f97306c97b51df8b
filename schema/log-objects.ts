/**
 * The layout of the access log in R2 (the LOGS bucket; docs/decisions/0037-access-logs-queue-r2.md),
 * beside the D1 tables that index it: the Worker writes and reads these keys, the benchmarks seed
 * them. No imports, so Node can load it as it is.
 */
export const ACCESS_PREFIX = "access/";
/** What the dead-letter queue handed over: replayed into `access/` by the daily job, or left for the admins. */
export const DEAD_LETTER_PREFIX = "access-dlq/";
/**
 * Users spread over this many buckets within a day: fewer objects per batch than one per user,
 * and an object mixes few users. The export needs no bucket: the index names its objects.
 */
export const USER_BUCKETS = 16;

export const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);

/** FNV-1a: stable everywhere, no await; the bucket only spreads users, it hides nothing. */
export function userBucket(userId: string | null): string {
  if (userId === null) return "anon";
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) hash = Math.imul(hash ^ userId.charCodeAt(i), 0x01000193) >>> 0;
  return String(hash % USER_BUCKETS).padStart(2, "0");
}

/** Where a bucket's lines of one UTC hour lie: batch objects (a hex digest) and, once compacted, `user-<id>` ones. */
export const slotPrefix = (day: string, bucket: string, hour: number) => `${ACCESS_PREFIX}day=${day}/u=${bucket}/h=${String(hour).padStart(2, "0")}/`;

/** Batch objects are named by a hex digest, merged ones `user-<id>`: the batches sort first. */
export const userObjectKey = (prefix: string, userId: string) => `${prefix}user-${userId}.ndjson.gz`;
