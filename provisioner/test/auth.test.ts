import type { webcrypto } from "node:crypto";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVISIONER_AUDIENCE, PROVISIONER_ISSUER } from "../../contract/provisioner.ts";
import { importProvisionerPublicKey, signProvisionerRequest } from "../src/auth.ts";
import { loadConfig } from "../src/config.ts";
import { startTestProvisioner, type TestProvisioner, workerKeys } from "./harness.ts";

let provisioner: TestProvisioner;
beforeAll(async () => {
  provisioner = await startTestProvisioner();
});
afterAll(async () => {
  await provisioner.close();
});

const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function validClaims(method: string, path: string): JWTPayload {
  return { iss: PROVISIONER_ISSUER, aud: PROVISIONER_AUDIENCE, iat: now(), exp: now() + 30, htm: method, htu: path };
}

async function signed(claims: JWTPayload, key?: webcrypto.CryptoKey): Promise<string> {
  const privateKey = key ?? (await workerKeys()).privateKey;
  return new SignJWT(claims).setProtectedHeader({ alg: "EdDSA", typ: "JWT" }).sign(privateKey);
}

async function get(path: string, authorization?: string): Promise<Response> {
  return fetch(`${provisioner.url}${path}`, { headers: authorization ? { authorization } : {} });
}

async function expectUnauthorized(response: Response): Promise<Record<string, unknown>> {
  expect(response.status).toBe(401);
  expect(response.headers.get("content-type")).toContain("application/problem+json");
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 401, code: "unauthorized" });
  expect(typeof body.requestId).toBe("string");
  return body;
}

describe("listening address", () => {
  it("listens on 127.0.0.1 only, whatever the configuration says", async () => {
    expect(provisioner.address.address).toBe("127.0.0.1");
    expect(provisioner.address.family).toBe("IPv4");
    expect(provisioner.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // No setting can widen it: HOST and friends are not read.
    const config = await loadConfig({ PROVISIONER_PUBLIC_JWK: (await workerKeys()).publicJwk, HOST: "0.0.0.0", PORT: "0" });
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

  it("refuses a token signed with another key", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed(validClaims("GET", "/v1/inventory"), privateKey)}`));
  });

  it('refuses alg "none"', async () => {
    const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url(validClaims("GET", "/v1/inventory"))}.`;
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${token}`));
  });

  it("refuses HS256 keyed with the public key (algorithm confusion)", async () => {
    const jwk = JSON.parse((await workerKeys()).publicJwk) as { x: string };
    const secret = Buffer.from(jwk.x, "base64url");
    const token = await new SignJWT(validClaims("GET", "/v1/inventory")).setProtectedHeader({ alg: "HS256" }).sign(secret);
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${token}`));
  });

  it("refuses an expired token", async () => {
    const token = await signProvisionerRequest((await workerKeys()).privateKey, "GET", "/v1/inventory", { now: now() - 120, lifetimeSeconds: 30 });
    const body = await expectUnauthorized(await get("/v1/inventory", `Bearer ${token}`));
    expect(body.detail).toBe("token expired");
  });

  it("refuses a token that lives longer than 60 s", async () => {
    const token = await signProvisionerRequest((await workerKeys()).privateKey, "GET", "/v1/inventory", { lifetimeSeconds: 61 });
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${token}`));
    const old = await signed({ ...validClaims("GET", "/v1/inventory"), iat: now() - 90, exp: now() + 30 });
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${old}`));
  });

  it("refuses a token without iat or exp", async () => {
    const { iat: _iat, ...noIat } = validClaims("GET", "/v1/inventory");
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed(noIat)}`));
    const { exp: _exp, ...noExp } = validClaims("GET", "/v1/inventory");
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed(noExp)}`));
  });

  it("refuses the wrong audience or issuer", async () => {
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed({ ...validClaims("GET", "/v1/inventory"), aud: "ozekai-api" })}`));
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed({ ...validClaims("GET", "/v1/inventory"), iss: "someone-else" })}`));
  });

  it("refuses a token minted for another method", async () => {
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await provisioner.token("POST", "/v1/inventory")}`));
    const { htm: _htm, ...noHtm } = validClaims("GET", "/v1/inventory");
    await expectUnauthorized(await get("/v1/inventory", `Bearer ${await signed(noHtm)}`));
  });

  it("refuses a token minted for another path", async () => {
    await expectUnauthorized(await get("/v1/metrics", `Bearer ${await provisioner.token("GET", "/v1/inventory")}`));
    await expectUnauthorized(await get("/v1/containers/a", `Bearer ${await provisioner.token("GET", "/v1/containers/b")}`));
    await expectUnauthorized(await get("/v1/workspaces/w/files/a%2Fb", `Bearer ${await provisioner.token("GET", "/v1/workspaces/w/files/a/b")}`));
  });

  it("binds the path without its query string", async () => {
    const response = await get("/v1/inventory?anything=1", `Bearer ${await provisioner.token("GET", "/v1/inventory")}`);
    expect(response.status).toBe(200);
  });
});

describe("the provisioner holds only the public key", () => {
  it("refuses to start with a private JWK, another key type or no key", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    await expect(importProvisionerPublicKey(JSON.stringify(await exportJWK(privateKey)))).rejects.toThrow(/private key/);
    const rsa = await generateKeyPair("RS256", { extractable: true });
    await expect(importProvisionerPublicKey(JSON.stringify(await exportJWK(rsa.publicKey)))).rejects.toThrow(/Ed25519/);
    await expect(importProvisionerPublicKey(undefined)).rejects.toThrow(/not set/);
    await expect(importProvisionerPublicKey("{")).rejects.toThrow(/JSON/);
  });

  it("signProvisionerRequest refuses a path with a query", async () => {
    await expect(signProvisionerRequest((await workerKeys()).privateKey, "GET", "/v1/inventory?x=1")).rejects.toThrow(TypeError);
  });
});
