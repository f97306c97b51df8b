/**
 * Policy §9 (the Services are hosted in the United States): a GPU host outside the allowed US
 * regions never gets a session, however much room it has, against the real provisioner of
 * test/global-setup.ts (a US host here).
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { configuredHostId } from "../contract/provisioner-token";
import { expectProblem, randomId, testEnv } from "./harness";
import { connect, containersOf, entitledUser, sessionRowsOf } from "./provisioner-harness";

/** The Worker without PROVISIONER_URL: placement reads the registry. */
const registryOnly = (overrides: Partial<Cloudflare.Env> = {}) => ({ ...testEnv(), PROVISIONER_URL: "", ...overrides }) as Cloudflare.Env;

const insertHost = (id: string, input: { baseUrl: string; gpuCount: number; region: string }) =>
  env.DB.prepare(
    "insert into gpu_hosts (id, name, transport, base_url, gpu_count, status, region, registered_at) values (?, 'test', 'url', ?, ?, 'active', ?, ?) on conflict (id) do update set status = 'active', region = excluded.region",
  )
    .bind(id, input.baseUrl, input.gpuCount, input.region, Date.now())
    .run();

/** A roomy host in Europe, active, at an address nothing answers: a session placed there would fail. */
async function europeanHost() {
  const id = `eu-${randomId()}`;
  await insertHost(id, { baseUrl: "http://127.0.0.1:1", gpuCount: 8, region: "eu-west" });
  return id;
}

const warnings = () => vi.spyOn(console, "warn");

afterEach(async () => {
  vi.restoreAllMocks();
  // Only the test provisioner stays a candidate for this file's later tests.
  const usHost = await configuredHostId(env.PROVISIONER_URL!);
  await env.DB.prepare("update gpu_hosts set status = case when id = ? then 'active' else 'offline' end").bind(usHost).run();
});

describe("placement stays in the allowed US regions", () => {
  it("the session goes to the US host although a European host has more room, and the refusal is logged", async () => {
    const usHost = await configuredHostId(env.PROVISIONER_URL!);
    await insertHost(usHost, { baseUrl: env.PROVISIONER_URL!, gpuCount: 0, region: "us-east" });
    const euHost = await europeanHost();
    const warn = warnings();
    const user = await entitledUser();
    const res = await connect(user, { env: registryOnly() });
    expect(res.status, res.text).toBe(201);
    expect((await sessionRowsOf(user.id)).map((s) => s.host_id)).toEqual([usHost]);
    expect(warn.mock.calls.map((args) => String(args[0])).join("\n")).toMatch(new RegExp(`host_region_refused.*${euHost}.*eu-west`));
  });

  it("with only a European host in the registry: 503 no_capacity, no session, no container", async () => {
    await env.DB.prepare("update gpu_hosts set status = 'offline'").run();
    await europeanHost();
    const user = await entitledUser();
    const res = await connect(user, { env: registryOnly() });
    expectProblem(res, 503, "no_capacity");
    expect(await sessionRowsOf(user.id)).toEqual([]);
    expect(await containersOf(user.id)).toEqual([]);
  });

  it("a configured host outside the allowed regions gets no workspace (its region recorded as configured)", async () => {
    const user = await entitledUser();
    const res = await connect(user, { env: { ...testEnv(), PROVISIONER_HOST_REGION: "eu-central" } as Cloudflare.Env });
    expectProblem(res, 503, "no_capacity");
    expect(await containersOf(user.id)).toEqual([]);
    const host = await env.DB.prepare("select region from gpu_hosts where id = ?").bind(await configuredHostId(env.PROVISIONER_URL!)).first<{ region: string }>();
    expect(host!.region).toBe("eu-central");
    // Back in the US (the default), the same host takes the session.
    const again = await connect(user);
    expect(again.status, again.text).toBe(201);
  });

  it("a hot workspace on a host outside the allowed regions is not started there", async () => {
    const user = await entitledUser();
    const euHost = await europeanHost();
    const now = Date.now();
    await env.DB.prepare("insert into workspaces (id, user_id, host_id, state, created_at, last_used_at) values (?, ?, ?, 'hot', ?, ?)").bind(`ws-${randomId()}`, user.id, euHost, now, now).run();
    expectProblem(await connect(user), 503, "no_capacity");
    expect(await sessionRowsOf(user.id)).toEqual([]);
  });

  it("an allowlist naming a region outside the US is a misconfiguration (503 not_configured), never used", async () => {
    const user = await entitledUser();
    expectProblem(await connect(user, { env: { ...testEnv(), HOST_REGIONS: "us-east,eu-west" } as Cloudflare.Env }), 503, "not_configured");
    expect(await sessionRowsOf(user.id)).toEqual([]);
  });
});
