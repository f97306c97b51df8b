/**
 * The bytes of a transfer on their way: counted for the progress line (throughput and ETA, on a
 * terminal only), hashed, held to `--limit-rate`, and watched: a transfer in which no byte moves
 * for STALL_MS is aborted and resumed where it stopped, instead of hanging while a session bills.
 */
import type { Hash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { bytes } from "../format.ts";

/** No byte for this long: the request is given up and the file resumed from where the other side is. */
export const STALL_MS = 30_000;

const formatRate = (bytesPerS: number) => `${(bytesPerS / 1e6).toFixed(1)} MB/s`;

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "–";
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "10M", "512k", "1.5G" (bytes per second, powers of 1024) → bytes per second. */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)(?:i?b(?:\/s)?)?$/i.exec(text.trim());
  const rate = match ? Number(match[1]) * 1024 ** "_kmg".indexOf((match[2] || "_").toLowerCase()) : Number.NaN;
  if (!(rate >= 1)) throw new Error(`--limit-rate: ${JSON.stringify(text)} is not a rate (e.g. 500k, 10M, 1G bytes per second)`);
  return Math.floor(rate);
}

/** One shared budget of bytes per second for all the files moving at once. */
export class RateLimit {
  readonly #bytesPerS: number;
  #next = 0;
  constructor(bytesPerS: number) {
    this.#bytesPerS = bytesPerS;
  }
  async take(bytes: number) {
    const now = performance.now();
    this.#next = Math.max(this.#next, now) + (bytes / this.#bytesPerS) * 1000;
    if (this.#next - now > 1) await sleep(this.#next - now);
  }
}

/** The one line of progress on stderr (a terminal only) and the counts behind the summary. */
export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #started = performance.now();
  #timer: NodeJS.Timeout | undefined;
  /** Bytes moved in the last seconds, for a throughput that follows the link rather than the average. */
  readonly #window: { at: number; bytes: number }[] = [];
  totalBytes = 0;
  movedBytes = 0;
  /** Bytes that did not need to move (resumed, unchanged): done without being sent. */
  doneWithoutMoving = 0;
  files = 0;
  filesDone = 0;
  /** False while the totals grow as the files arrive (a directory stream): no total or ETA to show. */
  totalKnown = true;
  readonly verb: string;

  constructor(verb: string) {
    this.verb = verb;
    if (this.#tty) this.#timer = setInterval(() => this.#draw(), 250).unref();
  }

  /** Bytes moved over the link (those of an attempt that broke off included). */
  moved(bytes: number) {
    this.movedBytes += bytes;
    const now = performance.now();
    this.#window.push({ at: now, bytes });
    while (this.#window.length > 1 && now - this.#window[0]!.at > 5000) this.#window.shift();
  }

  get seconds() {
    return (performance.now() - this.#started) / 1000;
  }

  #rate(): number {
    const first = this.#window[0];
    if (!first) return 0;
    const span = Math.max(0.25, (performance.now() - first.at) / 1000);
    return this.#window.reduce((sum, sample) => sum + sample.bytes, 0) / span;
  }

  #draw() {
    const rate = this.#rate();
    const left = Math.max(0, this.totalBytes - this.movedBytes - this.doneWithoutMoving);
    const line = !this.totalKnown
      ? `${this.verb} ${this.filesDone} files  ${bytes(this.movedBytes)}  ${formatRate(rate)}`
      : `${this.verb} ${this.filesDone}/${this.files} files  ${bytes(this.movedBytes + this.doneWithoutMoving)} / ${bytes(this.totalBytes)}  ${formatRate(rate)}  ETA ${formatDuration(rate > 0 ? left / rate : Number.POSITIVE_INFINITY)}`;
    process.stderr.write(`\r\x1b[K${line}`);
  }

  /** A line for the person, above the progress line. */
  note(message: string) {
    if (this.#tty) process.stderr.write("\r\x1b[K");
    process.stderr.write(`${message}\n`);
  }

  /** Clears the progress line and prints the summary (on stderr, terminal or not). */
  finish(summary: string) {
    clearInterval(this.#timer);
    if (this.#tty) process.stderr.write("\r\x1b[K");
    const rate = this.seconds > 0 ? this.movedBytes / this.seconds : 0;
    process.stderr.write(`${summary}, ${bytes(this.movedBytes)} moved in ${this.seconds.toFixed(1)} s (${formatRate(rate)})\n`);
  }
}

export class StalledError extends Error {
  constructor() {
    super(`no byte moved for ${STALL_MS / 1000} s`);
    this.name = "StalledError";
  }
}

/** Aborts `controller` when `poke` is not called for STALL_MS. */
export function stallWatch(controller: AbortController) {
  let timer: NodeJS.Timeout | undefined;
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new StalledError()), STALL_MS);
  };
  poke();
  return { poke, stop: () => clearTimeout(timer) };
}

/**
 * The bytes of `source`, passed on as they come: each chunk hashed (when a hash is given), counted, held to the rate
 * limit, and reported to the stall watch. Nothing is kept: memory stays flat whatever the size.
 */
export async function* metered(source: AsyncIterable<Uint8Array>, tools: { hash?: Hash; limit: RateLimit | undefined; poke: () => void; count: (bytes: number) => void }) {
  for await (const chunk of source) {
    if (tools.limit) await tools.limit.take(chunk.length);
    tools.hash?.update(chunk);
    tools.count(chunk.length);
    tools.poke();
    yield chunk;
  }
}
