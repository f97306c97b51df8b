/**
 * The house rules the code's shape must keep (CONTRIBUTING.md "Where things live"), read from the
 * sources themselves: no import cycle between the Worker's parts, a domain group is entered only
 * through its index, adapters never reach into the business rules, and comments say why, not which
 * ticket asked.
 */
import { describe, expect, it } from "vitest";

/** Sources by repository path (the glob names this folder's own files `./…`). */
const read = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([path, text]) => [path.replace(/^\.\.\//, "").replace(/^\.\//, "test/"), text]));

const workerSources = read(import.meta.glob<string>(["../workers/**/*.ts", "../contract/**/*.ts"], { query: "?raw", import: "default", eager: true }));
const allSources = {
  ...workerSources,
  ...read(import.meta.glob<string>(["../schema/**/*.ts", "../test/**/*.ts", "../bench/**/*.ts", "../scripts/**/*.ts", "../provisioner/src/**/*.ts", "../provisioner/test/**/*.ts"], { query: "?raw", import: "default", eager: true })),
};

/** The shared leaves of the domain: the only files at its root. */
const DOMAIN_LEAVES = ["audit.ts", "context.ts", "db.ts", "errors.ts", "owned.ts"];

/** The part of the architecture a file belongs to: a domain group or leaf, an adapter, or an entry point. */
function partOf(path: string): string {
  const segments = path.split("/");
  if (segments[0] === "workers" && (segments[1] === "domain" || segments[1] === "adapters")) return `${segments[1]}/${segments[2]!.replace(/\.ts$/, "")}`;
  if (segments[0] === "workers" && segments.length > 2) return segments[1]!;
  return segments[0] === "workers" ? `workers/${segments[1]!.replace(/\.ts$/, "")}` : segments[0]!;
}

const isDomainGroup = (part: string) => part.startsWith("domain/") && !DOMAIN_LEAVES.includes(`${part.slice("domain/".length)}.ts`);

function resolve(from: string, specifier: string): string | null {
  if (!specifier.startsWith(".")) return null;
  const segments = from.split("/").slice(0, -1);
  for (const part of specifier.replace(/\.ts$/, "").split("/")) {
    if (part === "..") segments.pop();
    else if (part !== ".") segments.push(part);
  }
  const base = segments.join("/");
  for (const candidate of [`${base}.ts`, `${base}/index.ts`]) if (candidate in allSources) return candidate;
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

/** Every `import … from` and `export … from` of a file, resolved (packages left out). */
function importsOf(path: string): string[] {
  const text = allSources[path]!;
  const found = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm)].map((m) => resolve(path, m[1]!));
  return found.filter((target): target is string => target !== null);
}

function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === "done") return null;
    if (state.get(node) === "visiting") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "visiting");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

const edges = Object.keys(workerSources).flatMap((from) => importsOf(from).map((to) => ({ from, to })));
const listed = (found: { from: string; to: string }[]) => found.map(({ from, to }) => `${from} → ${to}`);

describe("the shape of the Worker", () => {
  it("reads the sources (the checks below are not vacuous)", () => {
    expect(Object.keys(workerSources).length).toBeGreaterThan(50);
    expect(edges.length).toBeGreaterThan(200);
  });

  it("has no import cycle between its parts (domain groups and leaves, adapters, entry points)", () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) {
      const [a, b] = [partOf(from), partOf(to)];
      if (a === b) continue;
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)!.add(b);
    }
    expect(graph.size).toBeGreaterThan(15);
    expect(findCycle(graph)?.join(" → ") ?? "no cycle").toBe("no cycle");
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const graph = new Map([
      ["domain/sessions", new Set(["domain/workspaces"])],
      ["domain/workspaces", new Set(["domain/accounts"])],
      ["domain/accounts", new Set(["domain/sessions"])],
    ]);
    expect(findCycle(graph)).toEqual(["domain/sessions", "domain/workspaces", "domain/accounts", "domain/sessions"]);
  });

  it("enters a domain group from outside only through its index.ts, which every group has", () => {
    const groups = new Set(Object.keys(workerSources).filter((path) => path.startsWith("workers/domain/")).map(partOf).filter(isDomainGroup));
    expect([...groups].sort()).toEqual(
      ["access-logs", "accounts", "billing", "capacity", "cold-storage", "config", "hosts", "plans", "privacy", "sessions", "usage", "workspaces"].map((g) => `domain/${g}`),
    );
    for (const group of groups) expect(Object.keys(workerSources), group).toContain(`workers/${group}/index.ts`);
    const intoInternals = edges.filter(({ from, to }) => isDomainGroup(partOf(to)) && partOf(from) !== partOf(to) && !to.endsWith("/index.ts"));
    expect(listed(intoInternals)).toEqual([]);
    // Inside a group, files import each other, never their own index (which would make the group import itself).
    const ownIndex = edges.filter(({ from, to }) => isDomainGroup(partOf(from)) && partOf(from) === partOf(to) && to.endsWith("/index.ts") && !from.endsWith("/index.ts"));
    expect(listed(ownIndex)).toEqual([]);
  });

  it("keeps only the shared leaves at the domain's root", () => {
    const rootFiles = Object.keys(workerSources)
      .filter((path) => /^workers\/domain\/[^/]+\.ts$/.test(path))
      .map((path) => path.slice("workers/domain/".length));
    expect(rootFiles.sort()).toEqual(DOMAIN_LEAVES);
  });

  it("keeps adapters apart from business rules: an adapter imports no domain group but config", () => {
    const intoRules = edges.filter(({ from, to }) => partOf(from).startsWith("adapters/") && isDomainGroup(partOf(to)) && partOf(to) !== "domain/config");
    expect(listed(intoRules)).toEqual([]);
  });

  it("keeps the domain free of entry points: no domain file imports the API, cron, webhooks or the context factory", () => {
    const entryPoints = new Set(["api", "cron", "webhooks", "workers/context", "workers/index"]);
    const upward = edges.filter(({ from, to }) => partOf(from).startsWith("domain/") && entryPoints.has(partOf(to)));
    expect(listed(upward)).toEqual([]);
  });

  it("has comments that say why, never which ticket asked for the code", () => {
    const mentions = Object.entries(allSources).flatMap(([path, text]) =>
      text
        .split("\n")
        .map((line, i) => `${path}:${i + 1}: ${line.trim()}`)
        .filter((line) => /\b(issue|ticket)\s+#?\d+/i.test(line) && !line.includes("/\\b(issue|ticket)")),
    );
    expect(mentions).toEqual([]);
  });
});
