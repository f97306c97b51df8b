/** Reading and writing the session sockets' frames, with backpressure both ways. */
import type { Readable, Writable } from "node:stream";
import type { RawData, WebSocket } from "ws";

/** Output queued for a slow client before its source is paused. */
const HIGH_WATER_BYTES = 1024 * 1024;

/** Sends one frame to the client, pausing `source` while the client reads slower than it produces. */
export function sendPaced(ws: WebSocket, source: Readable, frame: Buffer): void {
  ws.send(frame, { binary: true }, () => {
    if (source.isPaused() && ws.bufferedAmount < HIGH_WATER_BYTES) source.resume();
  });
  if (ws.bufferedAmount >= HIGH_WATER_BYTES) source.pause();
}

/** The sinks a paused client waits on. */
const draining = new WeakSet<Writable>();

/** Writes what the client sent to `sink`, pausing the client while `sink` is full. */
export function writePaced(ws: WebSocket, sink: Writable, bytes: Buffer): void {
  // Frames already read from the client still arrive after a pause: one wait for the drain is enough.
  if (!sink.write(bytes) && !draining.has(sink)) {
    draining.add(sink);
    ws.pause();
    sink.once("drain", () => {
      draining.delete(sink);
      ws.resume();
    });
  }
}

/** A received frame's bytes, whatever `ws` handed over. */
export const frameBytes = (data: Buffer | ArrayBuffer | Buffer[]) => (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));

/** A text frame's JSON (control frames are JSON), or undefined when it is not JSON. */
export function controlFrame(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The client's frames in order: held until the bridge is ready for them, then delivered as they come
 * (ws emits every frame of a chunk at once, so none may wait for a promise to settle).
 */
export function frameQueue(ws: WebSocket) {
  const held: [RawData, boolean][] = [];
  let deliver: ((data: RawData, isBinary: boolean) => void) | undefined;
  let arrived: (() => void) | undefined;
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (deliver) return deliver(data, isBinary);
    held.push([data, isBinary]);
    arrived?.();
  });
  return {
    /** The first frame, or undefined when the socket closed or nothing came in time. */
    first(timeoutMs: number): Promise<[RawData, boolean] | undefined> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          arrived = undefined;
          resolve(held.shift());
        };
        const timer = setTimeout(done, timeoutMs);
        ws.once("close", done);
        if (held.length > 0) done();
        else arrived = done;
      });
    },
    /** From now on every frame goes to `handler`, the held ones first. */
    deliverTo(handler: (data: RawData, isBinary: boolean) => void) {
      deliver = handler;
      for (const [data, isBinary] of held.splice(0)) handler(data, isBinary);
    },
  };
}

/**
 * Closes the client's socket, if still open. Resumed first: a socket paused for a full sink would
 * never read the client's answering close frame, and ws would wait 30 s before giving up.
 */
export function closeClient(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.resume();
  ws.close(code, reason);
}
