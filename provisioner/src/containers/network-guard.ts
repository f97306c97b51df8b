/**
 * The network guard (policy §5: "each user's GPU container is isolated"): tenant containers must
 * not reach the host itself — its own services on any of its addresses, the bridge gateways
 * included — nor the link-local range where clouds serve instance metadata and credentials
 * (169.254.169.254). Docker's tenant bridges forward anywhere by default, so at start the
 * provisioner installs (or finds) iptables rules for every tenant bridge (`ozk+`, see
 * tenantBridgeName) and refuses to serve without them. Another tenant's bridge is already out of
 * reach: Docker isolates user-defined bridges from each other.
 *
 * The link-local rule lives in the raw table, which Docker never edits: in filter's FORWARD,
 * Docker deletes and reinserts its jump to DOCKER-USER each time it creates a network, and a
 * packet sent in that moment skipped any rule kept there.
 */
import { execFile } from "node:child_process";

/** One iptables call: its exit status (-1 when it could not run) and what it printed. */
export type Iptables = (args: string[]) => Promise<{ status: number; stdout: string; stderr: string }>;

/** The real one; `-w` waits for the xtables lock that dockerd takes too. */
export const runIptables: Iptables = (args) =>
  new Promise((resolve) => {
    execFile("iptables", ["-w", ...args], (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ status, stdout, stderr: stderr || (error?.message ?? "") });
    });
  });

/** The interface wildcard iptables matches every tenant bridge by. */
const TENANT_BRIDGES = "ozk+";

type Rule = { table: "filter" | "raw"; chain: string; comment: string; spec: string[]; what: string };

/** Each rule first in its chain, so nothing above it can accept what it refuses. */
export const GUARD_RULES: readonly Rule[] = [
  {
    table: "filter",
    chain: "INPUT",
    comment: "ozekai-tenant-to-host",
    // Replies to what the host itself opened still come back.
    spec: ["-i", TENANT_BRIDGES, "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED", "-j", "REJECT"],
    what: "tenant containers → the host (every address, bridge gateways included)",
  },
  {
    table: "raw",
    chain: "PREROUTING",
    comment: "ozekai-tenant-to-link-local",
    // Before routing, conntrack and NAT: no DNAT can turn the address into another. The raw table
    // cannot REJECT, so the sender waits out its own timeout.
    spec: ["-i", TENANT_BRIDGES, "-d", "169.254.0.0/16", "-j", "DROP"],
    what: "tenant containers → 169.254.0.0/16 (cloud instance metadata)",
  },
];

const ruleArgs = (rule: Rule) => [...rule.spec.slice(0, -2), "-m", "comment", "--comment", rule.comment, ...rule.spec.slice(-2)];

export type GuardCheck = { what: string; state: "present" | "installed" | "missing"; reason?: string };

/** The rules of a chain as `iptables -S` lists them (null when it cannot be read). */
async function listChain(iptables: Iptables, table: string, chain: string): Promise<string[] | null> {
  const listed = await iptables(["-t", table, "-S", chain]);
  return listed.status === 0 ? listed.stdout.split("\n").filter((line) => line.startsWith(`-A ${chain} `)) : null;
}

async function ensureRule(iptables: Iptables, rule: Rule): Promise<GuardCheck> {
  const args = ruleArgs(rule);
  const table = ["-t", rule.table];
  const first = async () => (await listChain(iptables, rule.table, rule.chain))?.[0]?.includes(rule.comment) === true;
  const checked = await iptables([...table, "-C", rule.chain, ...args]);
  if (checked.status === 0 && (await first())) return { what: rule.what, state: "present" };
  // Absent, or below another rule: (re)inserted at the top.
  if (checked.status === 0) await iptables([...table, "-D", rule.chain, ...args]);
  const inserted = await iptables([...table, "-I", rule.chain, "1", ...args]);
  if (inserted.status === 0 && (await first())) return { what: rule.what, state: "installed" };
  return { what: rule.what, state: "missing", reason: (inserted.stderr || checked.stderr).trim() || `iptables exited ${inserted.status}` };
}

export const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

export type GuardLog = (level: "info" | "warn", fields: Record<string, string>) => void;

const consoleLog: GuardLog = (level, fields) => (level === "warn" ? console.warn : console.info)(JSON.stringify({ level, event: "network_guard", ...fields }));

/**
 * Installs or verifies the rules and says what it did. Throws — the provisioner then does not
 * serve — when one is missing, unless `allowOpenNetwork` (PROVISIONER_ALLOW_OPEN_NETWORK=1, for a
 * development machine without iptables) and the provisioner listens on loopback only. Returns
 * whether tenant networks are guarded.
 */
export async function guardTenantNetworks(options: { iptables: Iptables; listenHost: string; allowOpenNetwork: boolean; log?: GuardLog }): Promise<boolean> {
  const { iptables, listenHost, allowOpenNetwork, log = consoleLog } = options;
  const checks: GuardCheck[] = [];
  for (const rule of GUARD_RULES) checks.push(await ensureRule(iptables, rule));
  for (const check of checks) log(check.state === "missing" ? "warn" : "info", { rule: check.what, state: check.state, ...(check.reason ? { reason: check.reason } : {}) });
  const missing = checks.filter((check) => check.state === "missing");
  if (missing.length === 0) return true;
  const what = missing.map((check) => `${check.what}${check.reason ? ` (${check.reason})` : ""}`).join("; ");
  if (allowOpenNetwork && isLoopback(listenHost)) {
    log("warn", { state: "open", message: `PROVISIONER_ALLOW_OPEN_NETWORK=1: serving although tenant containers are not kept from: ${what}` });
    return false;
  }
  const flag = allowOpenNetwork ? ` PROVISIONER_ALLOW_OPEN_NETWORK=1 is ignored: this provisioner listens on ${listenHost}, not on loopback.` : "";
  throw new Error(`refusing to serve: tenant containers would not be kept from: ${what}. Run as root on a host with iptables (its filter and raw tables).${flag}`);
}
