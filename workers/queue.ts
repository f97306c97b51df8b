/**
 * The queue() handler: access-log lines from ACCESS_LOG_QUEUE into R2, and what its dead-letter
 * queue hands over kept aside (wrangler.toml [[queues.consumers]]). A batch that throws is
 * redelivered whole, up to max_retries, then goes to the dead-letter queue: nothing is lost, and
 * the deterministic object keys make a redelivery overwrite what the failed attempt wrote.
 */
import type { AccessLine } from "./adapters/log";
import { createDomainContext } from "./context";
import { type AccessMessage, storeDeadLetters, writeAccessLines } from "./domain/access-logs";
import type { Env } from "./env";

/** Keep in step with wrangler.toml (a test compares them). */
export const ACCESS_LOG_QUEUE_NAME = "ozekai-access-logs";
export const ACCESS_LOG_DEAD_LETTER_QUEUE_NAME = "ozekai-access-logs-dlq";

export async function queue(batch: MessageBatch<AccessLine>, env: Env, executionCtx: ExecutionContext): Promise<void> {
  const messages: AccessMessage[] = batch.messages.map((m) => ({ id: m.id, line: m.body }));
  if (batch.queue === ACCESS_LOG_DEAD_LETTER_QUEUE_NAME) {
    const stored = await storeDeadLetters(env.LOGS, messages);
    // The daily job replays them and tells the admins of any that fail again.
    console.warn(JSON.stringify({ event: "access_log_dead_letters", messages: messages.length, objects: stored.objects }));
    batch.ackAll();
    return;
  }
  if (batch.queue !== ACCESS_LOG_QUEUE_NAME) {
    // Not ours to drop: left for a consumer that knows it (and, past max_retries, the dead-letter queue).
    console.warn(JSON.stringify({ event: "unknown_queue", queue: batch.queue }));
    batch.retryAll();
    return;
  }
  const requestId = `queue:${batch.queue}:${batch.messages[0]?.id ?? "empty"}`;
  const ctx = await createDomainContext(env, { actor: { kind: "system", job: "access-log-consumer" }, requestId, waitUntil: (p) => executionCtx.waitUntil(p) });
  ctx.log.info("access_log_batch", await writeAccessLines(ctx, messages));
  batch.ackAll();
}
