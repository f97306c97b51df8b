import { randomUUID, type webcrypto } from "node:crypto";
import { exportJWK, generateKeyPair, type JWTHeaderParameters, type JWTPayload, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROVISIONER_ISSUER, PROVISIONER_TOKEN_TYPE, signProvisionerRequest } from "../../contract/provisioner-token.ts";
import { AcceptedTokens, importProvisionerPublicKeys } from "../src/auth.ts";
import { loadConfig } from "../src/config.ts";
import { tenantNetworkName, workspaceVolumeName } from "../src/containers/spec.ts";
import { cpuPlan, docker, HOST_ID, startTestProvisioner, type TestProvisioner, tracker, workerKeys } from "./harness.ts";

let provisioner: TestProvisioner;
const made = tracker();
beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterEach(() => made.cleanup());
afterAll(async () => {
  await provisioner.close();
});

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function validClaims(method: string, path: string): JWTPayload {
  return { iss: PROVISIONER_ISSUER, aud: HOST_ID, iat: now(), exp: now() + 30, jti: randomUUID(), htm: method, htu: path, htq: "" };
}

async function signed(claims: JWTPayload, options: { key?: webcrypto.CryptoKey; header?: Partial<JWTHeaderParameters> } = {}): Promise<string> {
  const privateKey = options.key ?? (await workerKeys()).privateKey;
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: PROVISIONER_TOKEN_TYPE, kid: "worker-test", ...options.header }).sign(privateKey);
}

async function send(path: string, authorization?: string, init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${provisioner.url}${path}`, { method: init.method ?? "GET", headers: { ...(authorization ? { authorization } : {}), ...init.headers }, body: init.body });
}
const get = (path: string, authorization?: string) => send(path, authorization);
const bearer = (token: string) => `Bearer ${token}`;

async function expectUnauthorized(response: Response, detail?: string): Promise<Record<string, unknown>> {
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 401, code: "unauthorized", ...(detail ? { detail } : {}) });
  expect(typeof body.requestId).toBe("string");
  return body;
}

describe("listening address", () => {
  it("listens on 127.0.0.1 only, whatever the configuration says", async () => {
    expect(provisioner.address.address).toBe("127.0.0.1");
    expect(provisioner.address.family).toBe("IPv4");
    expect(provisioner.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // No setting can widen it: HOST and friends are not read.
    const config = await loadConfig({ PROVISIONER_PUBLIC_JWK: (await workerKeys()).publicJwk, PROVISIONER_HOST_ID: HOST_ID, HOST: "0.0.0.0", PORT: "0" });
    expect(Object.keys(config)).not.toContain("host");
  });
});

describe("health check", () => {
  it("answers without a token and reveals nothing", async () => {
    const response = await get("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("every other request needs a Worker token bound to it", () => {
  it("accepts a valid token", async () => {
    const response = await provisioner.request("GET", "/v1/inventory");
    expect(response.status).toBe(200);
  });

  it("refuses a request without a token", async () => {
    await expectUnauthorized(await get("/v1/containers"));
  });

  it("refuses unknown routes without a token the same way (nothing to discover)", async () => {
    await expectUnauthorized(await get("/v1/does-not-exist"));
    await expectUnauthorized(await get("/"));
  });

  it("refuses a malformed Authorization header", async () => {
    await expectUnauthorized(await get("/v1/inventory", "Bearer not-a-jwt"));
    await expectUnauthorized(await get("/v1/inventory", `Basic ${Buffer.from("a:b").toString("base64")}`));
    await expectUnauthorized(await get("/v1/inventory", `bearer ${await provisioner.token("GET", "/v1/inventory")}x`));
  });

  it("refuses a token signed with another key under the trusted kid", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { key: privateKey }))), "invalid token");
  });

  it('refuses alg "none"', async () => {
    const token = `${b64url({ alg: "none", typ: PROVISIONER_TOKEN_TYPE, kid: "worker-test" })}.${b64url(validClaims("GET", "/v1/inventory"))}.`;
    await expectUnauthorized(await get("/v1/inventory", bearer(token)));
  });

  it("refuses HS256 keyed with the public key (algorithm confusion)", async () => {
    const jwk = JSON.parse((await workerKeys()).publicJwk) as { x: string };
    const secret = Buffer.from(jwk.x, "base64url");
    const token = await new SignJWT(validClaims("GET", "/v1/inventory")).setProtectedHeader({ alg: "HS256", typ: PROVISIONER_TOKEN_TYPE, kid: "worker-test" }).sign(secret);
    await expectUnauthorized(await get("/v1/inventory", bearer(token)));
  });

  it("refuses a token of another type: typ must be ozekai-provisioner+jwt", async () => {
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { header: { typ: "JWT" } }))), "invalid token");
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { header: { typ: "at+jwt" } }))), "invalid token");
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { header: { typ: undefined } }))), "invalid token");
    // The same claims with the right type pass: only the header differed.
    expect((await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"))))).status).toBe(200);
  });

  it("refuses an unknown kid, and a token without one", async () => {
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { header: { kid: "retired-key" } }))), "unknown key id");
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(validClaims("GET", "/v1/inventory"), { header: { kid: undefined } }))), "unknown key id");
  });

  it("refuses an expired token", async () => {
    const token = await signProvisionerRequest((await workerKeys()).signingKey, { hostId: HOST_ID, method: "GET", target: "/v1/inventory" }, { now: now() - 120, lifetimeSeconds: 30 });
    await expectUnauthorized(await get("/v1/inventory", bearer(token)), "token expired");
  });

  it("refuses a token that lives longer than 60 s", async () => {
    const token = await signProvisionerRequest((await workerKeys()).signingKey, { hostId: HOST_ID, method: "GET", target: "/v1/inventory" }, { lifetimeSeconds: 61 });
    await expectUnauthorized(await get("/v1/inventory", bearer(token)));
    const old = await signed({ ...validClaims("GET", "/v1/inventory"), iat: now() - 90, exp: now() + 30 });
    await expectUnauthorized(await get("/v1/inventory", bearer(old)));
  });

  it("refuses a token without iat, exp or jti", async () => {
    for (const claim of ["iat", "exp", "jti"]) {
      const { [claim]: _dropped, ...claims } = validClaims("GET", "/v1/inventory");
      await expectUnauthorized(await get("/v1/inventory", bearer(await signed(claims))));
    }
  });

  it("refuses the wrong issuer", async () => {
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed({ ...validClaims("GET", "/v1/inventory"), iss: "someone-else" }))));
  });

  it("refuses a token minted for another host (aud is the registry id), or for the old shared audience", async () => {
    const other = await signProvisionerRequest((await workerKeys()).signingKey, { hostId: "gpu-test-2", method: "GET", target: "/v1/inventory" });
    await expectUnauthorized(await get("/v1/inventory", bearer(other)), "invalid token");
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed({ ...validClaims("GET", "/v1/inventory"), aud: "ozekai-provisioner" }))));
  });

  it("refuses a token minted for another method", async () => {
    await expectUnauthorized(await get("/v1/inventory", bearer(await provisioner.token("POST", "/v1/inventory"))), "token not bound to this request");
    const { htm: _htm, ...noHtm } = validClaims("GET", "/v1/inventory");
    await expectUnauthorized(await get("/v1/inventory", bearer(await signed(noHtm))));
  });

  it("refuses a token minted for another path", async () => {
    await expectUnauthorized(await get("/v1/metrics", bearer(await provisioner.token("GET", "/v1/inventory"))));
    await expectUnauthorized(await get("/v1/containers/a", bearer(await provisioner.token("GET", "/v1/containers/b"))));
    await expectUnauthorized(await get("/v1/workspaces/w/files/a%2Fb", bearer(await provisioner.token("GET", "/v1/workspaces/w/files/a/b"))));
  });
});

describe("a token is good for one request, once", () => {
  it("refuses a replay of a token already used, even at once and on the same route", async () => {
    const token = bearer(await provisioner.token("GET", "/v1/inventory"));
    expect((await get("/v1/inventory", token)).status).toBe(200);
    await expectUnauthorized(await get("/v1/inventory", token), "token already used");
  });

  it("accepts exactly one of two requests racing with one token", async () => {
    const token = bearer(await provisioner.token("GET", "/v1/inventory"));
    const statuses = (await Promise.all([get("/v1/inventory", token), get("/v1/inventory", token)])).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 401]);
  });

  it("does not use up a token on a request it refuses (the genuine request still passes)", async () => {
    const token = bearer(await provisioner.token("GET", "/v1/inventory"));
    await expectUnauthorized(await get("/v1/inventory?other=1", token));
    expect((await get("/v1/inventory", token)).status).toBe(200);
  });

  it("refuses a token issued before this process started (a restart forgets the tokens it saw)", async () => {
    const { startedAt } = provisioner.services.tokens.accepted;
    const early = await signProvisionerRequest((await workerKeys()).signingKey, { hostId: HOST_ID, method: "GET", target: "/v1/inventory" }, { now: startedAt - 1 });
    await expectUnauthorized(await get("/v1/inventory", bearer(early)), "token issued before this provisioner started");
  });

  it("remembers ids until their tokens expire, and refuses new ones while full rather than forget one", () => {
    const accepted = new AcceptedTokens(2);
    expect(accepted.accept("a", 100, 50)).toBe("accepted");
    expect(accepted.accept("a", 100, 50)).toBe("replayed");
    expect(accepted.accept("b", 200, 50)).toBe("accepted");
    expect(accepted.accept("c", 200, 99)).toBe("full"); // a and b still live: neither is forgotten
    expect(accepted.accept("b", 200, 99)).toBe("replayed");
    expect(accepted.accept("c", 200, 101)).toBe("accepted"); // a expired: its place is free
    expect(accepted.accept("b", 200, 101)).toBe("replayed");
  });
});

describe("a token binds the query and the body", () => {
  it("refuses a token used with another query string, or without the one it was signed with", async () => {
    await expectUnauthorized(await get("/v1/inventory?anything=1", bearer(await provisioner.token("GET", "/v1/inventory"))), "token not bound to this request");
    await expectUnauthorized(await get("/v1/inventory?anything=2", bearer(await provisioner.token("GET", "/v1/inventory?anything=1"))));
    await expectUnauthorized(await get("/v1/inventory", bearer(await provisioner.token("GET", "/v1/inventory?anything=1"))));
    expect((await get("/v1/inventory?anything=1", bearer(await provisioner.token("GET", "/v1/inventory?anything=1")))).status).toBe(200);
  });

  it("refuses a JSON body other than the one signed, an added body and a dropped one", async () => {
    const post = (token: string, body?: string) => send("/v1/containers", bearer(token), { method: "POST", body, headers: { "content-type": "application/json" } });
    // {} passes the token check and then fails validation (400): nothing is created either way.
    expect((await post(await provisioner.token("POST", "/v1/containers", "{}"), "{}")).status).toBe(400);
    await expectUnauthorized(await post(await provisioner.token("POST", "/v1/containers", "{}"), '{"image":"x"}'), "token not bound to this request");
    await expectUnauthorized(await post(await provisioner.token("POST", "/v1/containers"), "{}"));
    await expectUnauthorized(await post(await provisioner.token("POST", "/v1/containers", "{}")));
  });

  it("binds a streamed file upload by its Content-Length", async () => {
    const path = "/v1/workspaces/t-no-such-workspace/files/a.txt";
    const put = (token: string, body: string) => send(path, bearer(token), { method: "PUT", body });
    // The token passes; the host then finds no workspace.
    expect((await put(await provisioner.token("PUT", path, { length: 3 }), "abc")).status).toBe(404);
    await expectUnauthorized(await put(await provisioner.token("PUT", path, { length: 3 }), "abcd"), "token not bound to this request");
    await expectUnauthorized(await put(await provisioner.token("PUT", path, { length: 3, sha256: "0".repeat(64) }), "abc"));
  });

  it("binds a restore by its Content-Length and its X-Archive-Sha256", async () => {
    const path = `/v1/workspaces/${made.workspace()}/archive`;
    const announced = "a".repeat(64);
    const put = (token: string, sha256?: string) => send(path, bearer(token), { method: "PUT", body: new Uint8Array(1024), headers: sha256 ? { "x-archive-sha256": sha256 } : {} });
    await expectUnauthorized(await put(await provisioner.token("PUT", path, { length: 1024, sha256: announced }), "b".repeat(64)), "token not bound to this request");
    await expectUnauthorized(await put(await provisioner.token("PUT", path, { length: 1024, sha256: announced })));
    await expectUnauthorized(await put(await provisioner.token("PUT", path, { length: 1000, sha256: announced }), announced));
    // Bound right, the import runs and finds the body is not the announced archive.
    const verified = await put(await provisioner.token("PUT", path, { length: 1024, sha256: announced }), announced);
    expect(await verified.json()).toMatchObject({ status: 422, code: "archive_checksum_mismatch" });
  });
});

describe("the provisioner holds only public keys, selected by kid", () => {
  it("selects the key by kid among a JWK Set, so keys rotate without a cut-over", async () => {
    const current = await workerKeys();
    const next = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const keys = [JSON.parse(current.publicJwk), { ...(await exportJWK(next.publicKey)), kid: "worker-next" }];
    const rotating = await startTestProvisioner({ publicJwk: JSON.stringify({ keys }) });
    try {
      const sign = (kid: string, privateKey: webcrypto.CryptoKey) => signProvisionerRequest({ kid, privateKey }, { hostId: HOST_ID, method: "GET", target: "/v1/inventory" });
      const call = async (token: string) => fetch(`${rotating.url}/v1/inventory`, { headers: { authorization: bearer(token) } });
      expect((await call(await sign("worker-test", current.privateKey))).status).toBe(200);
      expect((await call(await sign("worker-next", next.privateKey))).status).toBe(200);
      // The kid picks the key: a token naming the other one does not verify.
      expect((await call(await sign("worker-test", next.privateKey))).status).toBe(401);
      expect((await call(await sign("worker-other", next.privateKey))).status).toBe(401);
    } finally {
      await rotating.close();
    }
  });

  it("refuses to start with a private JWK, another key type, a key without kid, a kid twice, or no key", async () => {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid: "k1" };
    await expect(importProvisionerPublicKeys(JSON.stringify({ ...(await exportJWK(privateKey)), kid: "k1" }))).rejects.toThrow(/private key/);
    await expect(importProvisionerPublicKeys(JSON.stringify({ keys: [publicJwk, { ...(await exportJWK(privateKey)), kid: "k2" }] }))).rejects.toThrow(/private key/);
    const rsa = await generateKeyPair("RS256", { extractable: true });
    await expect(importProvisionerPublicKeys(JSON.stringify({ ...(await exportJWK(rsa.publicKey)), kid: "r" }))).rejects.toThrow(/Ed25519/);
    await expect(importProvisionerPublicKeys(JSON.stringify(await exportJWK(publicKey)))).rejects.toThrow(/kid/);
    await expect(importProvisionerPublicKeys(JSON.stringify({ keys: [publicJwk, publicJwk] }))).rejects.toThrow(/twice/);
    await expect(importProvisionerPublicKeys(JSON.stringify({ keys: [] }))).rejects.toThrow(/non-empty/);
    await expect(importProvisionerPublicKeys(undefined)).rejects.toThrow(/not set/);
    await expect(importProvisionerPublicKeys("{")).rejects.toThrow(/JSON/);
    await expect(importProvisionerPublicKeys(JSON.stringify({ keys: [publicJwk] }))).resolves.toHaveProperty("size", 1);
  });

  it("refuses to start without its registry id", async () => {
    const publicJwk = (await workerKeys()).publicJwk;
    await expect(loadConfig({ PROVISIONER_PUBLIC_JWK: publicJwk })).rejects.toThrow(/PROVISIONER_HOST_ID/);
    await expect(loadConfig({ PROVISIONER_PUBLIC_JWK: publicJwk, PROVISIONER_HOST_ID: "a b" })).rejects.toThrow(/PROVISIONER_HOST_ID/);
  });

  it("the signer refuses a target that is not an absolute path", async () => {
    await expect(signProvisionerRequest((await workerKeys()).signingKey, { hostId: HOST_ID, method: "GET", target: "v1/inventory" })).rejects.toThrow(TypeError);
  });
});

describe("the host runs only the images its operator allowed", () => {
  it("reads PROVISIONER_IMAGES, by default the catalog images every host builds (minimal and base)", async () => {
    const base = { PROVISIONER_PUBLIC_JWK: (await workerKeys()).publicJwk, PROVISIONER_HOST_ID: HOST_ID };
    expect((await loadConfig(base)).images).toEqual(["ozekai/workspace:local", "ozekai/base:local"]);
    expect((await loadConfig({ ...base, PROVISIONER_IMAGES: "ghcr.io/ozekai/cuda:12, ozekai/workspace:local" })).images).toEqual(["ghcr.io/ozekai/cuda:12", "ozekai/workspace:local"]);
    await expect(loadConfig({ ...base, PROVISIONER_IMAGES: " , " })).rejects.toThrow(/PROVISIONER_IMAGES/);
  });

  it("answers 422 image_not_allowed for another image, and makes nothing", async () => {
    const ids = made.session();
    const response = await provisioner.request("POST", "/v1/containers", { body: { ...ids, image: "docker.io/library/alpine:latest", plan: cpuPlan } });
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ code: "image_not_allowed" });
    await expect(docker.getVolume(workspaceVolumeName(ids.workspaceId)).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(docker.getNetwork(tenantNetworkName(ids.tenantId)).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it("refuses an env field: a container gets no environment from a request", async () => {
    const response = await provisioner.request("POST", "/v1/containers", { body: { ...made.session(), image: "ozekai/workspace:local", plan: cpuPlan, env: { A: "b" } } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "validation_failed" });
  });
});
