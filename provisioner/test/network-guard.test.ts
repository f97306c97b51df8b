/** The network guard: tenant containers never reach the host or link-local metadata (src/containers/network-guard.ts). */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { GUARD_RULES, type GuardLog, guardTenantNetworks, type Iptables } from "../src/containers/network-guard.ts";
import { tenantBridgeName, tenantNetworkName } from "../src/containers/spec.ts";
import { docker, execIn, HOST_ID, startSession, startTestProvisioner, type TestProvisioner, tracker, uid, WORKSPACE_IMAGE, workerKeys } from "./harness.ts";

/**
 * iptables as chains of rule texts keyed "table chain", for the guard's logic; `readOnly`: every
 * change refused, as for a user who is not root.
 */
function fakeIptables(initial: Record<string, string[]>, options: { readOnly?: boolean } = {}) {
  const chains = new Map(Object.entries(initial).map(([chain, rules]) => [chain, [...rules]]));
  const changes: string[][] = [];
  const iptables: Iptables = async (args) => {
    const [table = "", op = "", chain = "", ...rest] = args[0] === "-t" ? args.slice(1) : ["filter", ...args];
    const rules = chains.get(`${table} ${chain}`);
    const answer = (status: number, stdout = "", stderr = "") => ({ status, stdout, stderr });
    if (!rules) return answer(1, "", "iptables: No chain/target/match by that name.");
    if (op === "-S") return answer(0, [`-N ${chain}`, ...rules.map((rule) => `-A ${chain} ${rule}`)].join("\n"));
    if (op === "-C") return answer(rules.includes(rest.join(" ")) ? 0 : 1);
    if (options.readOnly) return answer(4, "", "iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)");
    changes.push([table, op, chain, ...rest]);
    if (op === "-D") rules.splice(rules.indexOf(rest.join(" ")), 1);
    if (op === "-I") rules.splice(Number(rest[0]) - 1, 0, rest.slice(1).join(" "));
    return answer(0);
  };
  return { iptables, chains, changes };
}

/** A host as Docker leaves it (its filter rules; the raw table empty). */
const dockerHost = () => ({ "filter INPUT": ["-j ufw-before-input"], "filter FORWARD": ["-j DOCKER-USER", "-j DOCKER-ISOLATION-STAGE-1"], "raw PREROUTING": [] });

function logged() {
  const lines: { level: string; fields: Record<string, string> }[] = [];
  const log: GuardLog = (level, fields) => lines.push({ level, fields });
  return { lines, log };
}

const guard = (iptables: Iptables, log: GuardLog, listenHost = "127.0.0.1", allowOpenNetwork = false) => guardTenantNetworks({ iptables, listenHost, allowOpenNetwork, log });

describe("the guard's rules", () => {
  it("installs both rules at the top of their chains when they are missing, says so, and lets the provisioner serve", async () => {
    const host = fakeIptables(dockerHost());
    const { lines, log } = logged();
    expect(await guard(host.iptables, log)).toBe(true);
    expect(host.chains.get("filter INPUT")?.[0]).toContain("-i ozk+ -m conntrack ! --ctstate RELATED,ESTABLISHED -m comment --comment ozekai-tenant-to-host -j REJECT");
    expect(host.chains.get("raw PREROUTING")).toEqual(["-i ozk+ -d 169.254.0.0/16 -m comment --comment ozekai-tenant-to-link-local -j DROP"]);
    expect(host.chains.get("filter FORWARD")).toEqual(dockerHost()["filter FORWARD"]);
    expect(lines.map((line) => line.fields.state)).toEqual(["installed", "installed"]);
  });

  it("changes nothing when the rules are in place", async () => {
    const host = fakeIptables(dockerHost());
    await guard(host.iptables, logged().log);
    host.changes.length = 0;
    const { lines, log } = logged();
    expect(await guard(host.iptables, log)).toBe(true);
    expect(host.changes).toEqual([]);
    expect(lines.every((line) => line.fields.state === "present" && line.level === "info")).toBe(true);
  });

  it("moves a rule back to the top when another was put above it (it could accept what the guard refuses)", async () => {
    const host = fakeIptables(dockerHost());
    await guard(host.iptables, logged().log);
    host.chains.get("filter INPUT")?.unshift("-j ACCEPT");
    const { lines, log } = logged();
    expect(await guard(host.iptables, log)).toBe(true);
    expect(host.chains.get("filter INPUT")?.[0]).toContain("ozekai-tenant-to-host");
    expect(host.chains.get("filter INPUT")?.filter((rule) => rule.includes("ozekai"))).toHaveLength(1);
    expect(lines[0]?.fields.state).toBe("installed");
  });

  it.each([
    ["iptables refuses changes (not root)", fakeIptables(dockerHost(), { readOnly: true }).iptables],
    ["there is no iptables", (async () => ({ status: -1, stdout: "", stderr: "spawn iptables ENOENT" })) satisfies Iptables],
    ["the kernel has no raw table", fakeIptables({ "filter INPUT": [], "filter FORWARD": [] }).iptables],
  ])("refuses to serve when %s, naming what is missing", async (_label, iptables) => {
    const { lines, log } = logged();
    await expect(guard(iptables, log)).rejects.toThrow(/^refusing to serve: tenant containers would not be kept from: /);
    expect(lines.some((line) => line.level === "warn" && line.fields.state === "missing")).toBe(true);
  });

  it("serves without the rules only with PROVISIONER_ALLOW_OPEN_NETWORK=1 on loopback, and says so", async () => {
    const { iptables } = fakeIptables(dockerHost(), { readOnly: true });
    const { lines, log } = logged();
    expect(await guard(iptables, log, "127.0.0.1", true)).toBe(false);
    expect(lines.at(-1)).toMatchObject({ level: "warn", fields: { state: "open", message: expect.stringContaining("PROVISIONER_ALLOW_OPEN_NETWORK=1: serving although") } });
    for (const listenHost of ["0.0.0.0", "192.0.2.2", "::"]) {
      await expect(guard(iptables, logged().log, listenHost, true), listenHost).rejects.toThrow(`PROVISIONER_ALLOW_OPEN_NETWORK=1 is ignored: this provisioner listens on ${listenHost}`);
    }
  });

  it("reads PROVISIONER_ALLOW_OPEN_NETWORK as 1 only", async () => {
    const base = { PROVISIONER_PUBLIC_JWK: (await workerKeys()).publicJwk, PROVISIONER_HOST_ID: HOST_ID };
    expect((await loadConfig(base)).allowOpenNetwork).toBe(false);
    for (const value of ["true", "yes", "0", ""]) expect((await loadConfig({ ...base, PROVISIONER_ALLOW_OPEN_NETWORK: value })).allowOpenNetwork, value).toBe(false);
    expect((await loadConfig({ ...base, PROVISIONER_ALLOW_OPEN_NETWORK: "1" })).allowOpenNetwork).toBe(true);
  });

  it("keeps a provisioner from listening without them, unless the flag says otherwise", async () => {
    const { iptables } = fakeIptables(dockerHost(), { readOnly: true });
    await expect(startTestProvisioner({ iptables })).rejects.toThrow(/^refusing to serve/);
    const open = await startTestProvisioner({ iptables, allowOpenNetwork: true });
    expect((await fetch(`${open.url}/healthz`)).status).toBe(200);
    await open.close();
  });
});

const run = promisify(execFile);

/** Packets the guard's rule with this comment refused so far. */
async function refusedBy(comment: string, table: string, chain: string): Promise<number> {
  const { stdout } = await run("iptables", ["-w", "-t", table, "-L", chain, "-v", "-x", "-n"]);
  const line = stdout.split("\n").find((row) => row.includes(comment));
  if (!line) throw new Error(`no ${comment} rule in ${chain}`);
  return Number(line.trim().split(/\s+/)[0]);
}

/** `nc` from a container: "reached" when the connection opened. */
const connect = async (containerId: string, host: string, port: number) =>
  (await execIn(containerId, ["sh", "-c", `nc -w 3 ${host} ${port} </dev/null >/dev/null 2>&1 && echo reached || echo refused`])).trim();

describe("on this host (real iptables, real containers)", () => {
  let provisioner: TestProvisioner;
  const made = tracker();
  let listener: Server;
  let port = 0;
  let accepted = 0;
  const hostAddress = Object.values(networkInterfaces())
    .flat()
    .find((address) => address?.family === "IPv4" && !address.internal)?.address;

  beforeAll(async () => {
    provisioner = await startTestProvisioner(); // installs the rules, or finds them
    listener = createServer((socket) => {
      accepted++;
      socket.end();
    });
    await new Promise<void>((resolve) => listener.listen(0, "0.0.0.0", resolve));
    port = (listener.address() as { port: number }).port;
  });
  afterEach(() => made.cleanup());
  afterAll(async () => {
    await provisioner.close();
    await new Promise((resolve) => listener.close(resolve));
  });

  it("has the rules in place, and names every tenant bridge so that they match it", async () => {
    for (const rule of GUARD_RULES) expect((await run("iptables", ["-w", "-t", rule.table, "-S", rule.chain])).stdout).toContain(rule.comment);
    const { tenantId } = await startSession(provisioner, made);
    const network = await docker.getNetwork(tenantNetworkName(tenantId)).inspect();
    expect(network.Options?.["com.docker.network.bridge.name"]).toBe(tenantBridgeName(tenantId));
    expect(tenantBridgeName(tenantId)).toMatch(/^ozk[0-9a-f]{12}$/);
    expect(existsSync(`/sys/class/net/${tenantBridgeName(tenantId)}`)).toBe(true);
  });

  it("keeps a tenant container from the host's ports (its gateway, its other addresses) and from 169.254.169.254, which a plain Docker network reaches", async () => {
    // The control: a container on an ordinary Docker bridge reaches the same listener.
    const plainNetwork = uid("plain");
    await docker.createNetwork({ Name: plainNetwork, Driver: "bridge" });
    const plain = await docker.createContainer({ Image: WORKSPACE_IMAGE, Cmd: ["sleep", "60"], HostConfig: { NetworkMode: plainNetwork, LogConfig: { Type: "none", Config: {} } } });
    try {
      await plain.start();
      const plainGateway = (await docker.getNetwork(plainNetwork).inspect()).IPAM?.Config?.[0]?.Gateway ?? "";
      expect(await connect(plain.id, plainGateway, port)).toBe("reached");
      const before = accepted;

      const { containerId, tenantId } = await startSession(provisioner, made);
      const gateway = (await docker.getNetwork(tenantNetworkName(tenantId)).inspect()).IPAM?.Config?.[0]?.Gateway ?? "";
      const refusedToHost = await refusedBy("ozekai-tenant-to-host", "filter", "INPUT");
      expect(await connect(containerId, gateway, port)).toBe("refused");
      if (hostAddress) expect(await connect(containerId, hostAddress, port)).toBe("refused");
      expect(await connect(containerId, plainGateway, port)).toBe("refused"); // docker0-like bridges are the host too
      expect(accepted).toBe(before);
      expect(await refusedBy("ozekai-tenant-to-host", "filter", "INPUT")).toBeGreaterThan(refusedToHost);

      const refusedToMetadata = await refusedBy("ozekai-tenant-to-link-local", "raw", "PREROUTING");
      expect(await connect(containerId, "169.254.169.254", 80)).toBe("refused");
      expect(await refusedBy("ozekai-tenant-to-link-local", "raw", "PREROUTING")).toBeGreaterThan(refusedToMetadata);
    } finally {
      await plain.remove({ force: true });
      await docker.getNetwork(plainNetwork).remove();
    }
  });

  it("keeps 169.254.169.254 out of reach while Docker rebuilds FORWARD (its jump to DOCKER-USER gone, as for a moment whenever it creates a network)", async () => {
    const { containerId } = await startSession(provisioner, made);
    const jump = ["FORWARD", "-j", "DOCKER-USER"];
    await run("iptables", ["-w", "-D", ...jump]);
    try {
      const refused = await refusedBy("ozekai-tenant-to-link-local", "raw", "PREROUTING");
      expect(await connect(containerId, "169.254.169.254", 80)).toBe("refused");
      expect(await refusedBy("ozekai-tenant-to-link-local", "raw", "PREROUTING")).toBeGreaterThan(refused);
    } finally {
      await run("iptables", ["-w", "-I", ...jump.slice(0, 1), "1", ...jump.slice(1)]);
    }
  });
});
