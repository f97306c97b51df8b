/**
 * files/http.ts, the one transport of a transfer's bytes, against a real HTTP server: a 401
 * `unauthorized` refreshes once through the session and sends the body again from its source,
 * whole; any other refusal is the API's problem as is.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJson, transfer } from "../src/files/http.ts";
import type { Session } from "../src/session.ts";

let server: Server;
let base: string;
const seen: { authorization: string | undefined; bytes: number; sha256: string }[] = [];

async function drain(request: IncomingMessage) {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of request) {
    bytes += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { bytes, sha256: hash.digest("hex") };
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const authorization = request.headers.authorization;
    if (authorization !== "Bearer fresh") {
      // As the Worker does: refused before the body is read.
      seen.push({ authorization, bytes: 0, sha256: "" });
      response.writeHead(401, { "Content-Type": "application/problem+json", "X-Request-Id": "req-1" });
      response.end(JSON.stringify({ type: "about:blank", title: "Unauthorized", status: 401, code: request.url === "/forbidden" ? "forbidden" : "unauthorized", requestId: "req-1" }));
      request.resume();
      return;
    }
    void drain(request).then((got) => {
      seen.push({ authorization, ...got });
      response.writeHead(201, { "Content-Type": "application/json" });
      response.end(JSON.stringify(got));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const sessionWith = (refresh: Session["refreshAfterRejection"]) => ({ apiUrl: base, accessToken: async () => "expired", refreshAfterRejection: refresh }) as unknown as Session;

describe("a transfer's request", () => {
  it("refreshes once on 401 unauthorized and sends the whole body again, opened afresh", async () => {
    seen.length = 0;
    const data = randomBytes(8 * 1024 * 1024 + 5);
    let opened = 0;
    let refreshed = 0;
    const session = sessionWith(async (rejected) => {
      refreshed++;
      expect(rejected).toBe("expired");
      return { token: "fresh" };
    });
    const response = await transfer(session, {
      method: "PUT",
      target: "/v1/workspace/files/a.bin",
      body: {
        length: data.length,
        open: () => {
          opened++;
          return Readable.from([data.subarray(0, 1000), data.subarray(1000)]);
        },
      },
      signal: AbortSignal.timeout(30_000),
    });
    expect(response.status).toBe(201);
    expect(await readJson(response.body)).toEqual({ bytes: data.length, sha256: createHash("sha256").update(data).digest("hex") });
    expect(refreshed).toBe(1);
    expect(opened).toBe(2);
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer expired", "Bearer fresh"]);
  });

  it("gives another refusal as the API's problem, and a refresh that fails as its own answer", async () => {
    const never = sessionWith(async () => {
      throw new Error("no refresh for another code");
    });
    const refused = await transfer(never, { method: "GET", target: "/forbidden", signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ kind: "not_signed_in", extra: { status: 401, code: "forbidden", requestId: "req-1" } });

    const ended = sessionWith(async () => ({ response: new Response(JSON.stringify({ code: "unauthorized", detail: "The sign-in has ended." }), { status: 401 }) }));
    const failed = await transfer(ended, { method: "GET", target: "/x", signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ kind: "not_signed_in", message: expect.stringContaining("The sign-in has ended.") });
  });
});
