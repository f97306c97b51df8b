/**
 * docs/policy-conformance.md cites, for each promise of the privacy policy, the tests that prove
 * it. This keeps the citations true: every cited test file exists, and every quoted test name (or
 * each part of it around an ellipsis) is written in that file.
 */
import { describe, expect, it } from "vitest";
import matrix from "../docs/policy-conformance.md?raw";

const sources = Object.fromEntries(
  Object.entries(import.meta.glob<string>(["../test/**/*.ts", "../provisioner/test/**/*.ts", "../cli/test/**/*.ts", "../web/test/**/*.ts"], { query: "?raw", import: "default", eager: true })).map(([path, text]) => [
    path.replace(/^\.\.\//, "").replace(/^\.\//, "test/"),
    text,
  ]),
);

interface Citation {
  row: string;
  file: string;
  name?: string;
}

/** The citations of the table's last column: `path` followed by the "names" quoted after it. */
function citations(): Citation[] {
  const found: Citation[] = [];
  for (const line of matrix.split("\n")) {
    const cells = line.split(" | ");
    if (!line.startsWith("| ") || cells.length < 4) continue;
    const tests = cells.at(-1)!.replace(/ \|$/, "");
    const row = `§${cells[0]!.slice(2)} ${cells[1]}`;
    for (const part of tests.split(/(?=`(?:provisioner\/|cli\/|web\/)?test\/)/)) {
      const file = /^`((?:provisioner\/|cli\/|web\/)?test\/[^`]+)`/.exec(part)?.[1];
      if (!file) continue;
      found.push({ row, file });
      for (const [, name] of part.matchAll(/"([^"]+)"/g)) found.push({ row, file, name: name! });
    }
  }
  return found;
}

describe("the policy conformance matrix", () => {
  const cited = citations();

  it("cites tests (the parser reads the table)", () => {
    expect(cited.filter((c) => c.name).length).toBeGreaterThan(30);
  });

  it.each(cited.map((c) => [c.name ? `${c.file} "${c.name}"` : c.file, c] as const))("%s exists", (_label, { file, name }) => {
    const source = sources[file];
    expect(source, `${file} is cited but does not exist`).toBeDefined();
    if (!name) return;
    for (const fragment of name.split("…").map((f) => f.trim()).filter((f) => f.length > 0)) {
      expect(source!.includes(fragment), `"${fragment}" is not in ${file}`).toBe(true);
    }
  });
});
