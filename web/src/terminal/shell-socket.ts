/**
 * The session's shell socket as a browser opens it (GET /v1/sessions/{id}/shell): a browser cannot
 * set an Authorization header on a WebSocket, so the access token rides as a subprotocol entry
 * beside the protocol's name — never in the URL, which proxies and histories keep
 * (workers/api/session-sockets.ts). Binary frames carry the terminal's bytes both ways; a text
 * frame resizes the terminal.
 */

/** The protocol the Worker selects (SESSION_SOCKET_SUBPROTOCOL) and the prefix of the token's entry (WEBSOCKET_TOKEN_PREFIX). */
const SUBPROTOCOL = "ozekai.v1";
const TOKEN_PREFIX = "bearer.";

/** Close codes the Worker sends (SESSION_SOCKET_CLOSE) beside the standard ones. */
export const CLOSE = { normal: 1000, signInEnded: 4401, lifetimeReached: 4408, protocolError: 4400 } as const;

/**
 * Nothing else may be sent as a keepalive (an unknown text frame closes the socket), and a
 * browser cannot send a ping. Repeating the current size is a valid frame and changes nothing:
 * the kernel signals a resize only when the size differs. It keeps idle proxies from dropping a
 * quiet shell, and it is not input, so it does not count as activity.
 */
const KEEPALIVE_MS = 30_000;

export interface ShellSocket {
  send(data: string | Uint8Array<ArrayBuffer>): void;
  resize(cols: number, rows: number): void;
  close(): void;
}

export interface ShellHandlers {
  onOpen(): void;
  onOutput(bytes: Uint8Array): void;
  onClose(code: number, reason: string, opened: boolean): void;
}

export function openShell(sessionId: string, token: string, size: { cols: number; rows: number }, on: ShellHandlers): ShellSocket {
  const url = new URL(`/v1/sessions/${encodeURIComponent(sessionId)}/shell`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(url, [SUBPROTOCOL, `${TOKEN_PREFIX}${token}`]);
  ws.binaryType = "arraybuffer";
  const encoder = new TextEncoder();
  let current = size;
  let opened = false;
  const sendSize = () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "resize", cols: current.cols, rows: current.rows }));
  };
  const keepalive = setInterval(sendSize, KEEPALIVE_MS);
  ws.addEventListener("open", () => {
    opened = true;
    sendSize();
    on.onOpen();
  });
  ws.addEventListener("message", (event) => {
    if (event.data instanceof ArrayBuffer) on.onOutput(new Uint8Array(event.data));
  });
  ws.addEventListener("close", (event) => {
    clearInterval(keepalive);
    on.onClose(event.code, event.reason, opened);
  });
  return {
    send(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(typeof data === "string" ? encoder.encode(data) : data);
    },
    resize(cols, rows) {
      if (cols === current.cols && rows === current.rows) return;
      current = { cols, rows };
      sendSize();
    },
    close() {
      clearInterval(keepalive);
      ws.close(CLOSE.normal, "closed by the page");
    },
  };
}
