import { describe, expect, it } from "vitest";
import { ProvisionerError } from "../src/errors.ts";
import { archiveEntryPath, parseRawWorkspacePath, resolveLinkTarget, workspacePathSegments } from "../src/workspaces/paths.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof ProvisionerError ? error.code : "not a ProvisionerError";
  }
  return undefined;
}

describe("workspace paths from users", () => {
  it.each([["file.txt"], ["dir/sub/file.bin"], ["name with spaces"], ["é/日本語"], [".hidden/..dots"], ["a..b"]])("accepts %j", (path) => {
    expect(workspacePathSegments(path)).toEqual(path.split("/"));
  });

  it.each([
    ["", "empty"],
    ["../etc/passwd", "parent"],
    ["a/../../etc/passwd", "parent in the middle"],
    ["a/..", "trailing parent"],
    ["./a", "dot"],
    ["/etc/passwd", "absolute"],
    ["a//b", "empty segment"],
    ["a/", "trailing slash"],
    ["a\\..\\b", "backslash"],
    ["a\0b", "NUL"],
    ["a\nb", "control character"],
    [`${"x".repeat(256)}`, "segment over 255 bytes"],
    [`${"abc/".repeat(1100)}x`, "path over 4096 bytes"],
  ])("refuses %j (%s)", (path) => {
    expect(codeOf(() => workspacePathSegments(path))).toBe("invalid_path");
  });

  it("decodes each raw URL segment on its own, so encodings cannot smuggle separators or dots", () => {
    expect(parseRawWorkspacePath("dir/my%20file%20%C3%A9.txt")).toEqual(["dir", "my file é.txt"]);
    for (const raw of ["..%2F..%2Fetc%2Fpasswd", "%2E%2E/etc", "%2e%2e", "%2Fetc%2Fpasswd", "a%00b", "a%5Cb", "%2E", "a%2Fb", "%E0%A4%A", "", "/etc"]) {
      expect(codeOf(() => parseRawWorkspacePath(raw)), raw).toBe("invalid_path");
    }
  });
});

describe("tar entry names and link targets in imports", () => {
  it("reads names relative to the workspace root", () => {
    expect(archiveEntryPath("./")).toBeNull();
    expect(archiveEntryPath(".")).toBeNull();
    expect(archiveEntryPath("./a/b.txt")).toEqual(["a", "b.txt"]);
    expect(archiveEntryPath("dir/")).toEqual(["dir"]);
  });

  it.each([["../evil"], ["a/../../evil"], ["/etc/cron.d/x"], ["./../x"], ["a\\b"], ["a\0b"], ["a//b"]])("refuses entry %j", (name) => {
    expect(codeOf(() => archiveEntryPath(name))).toBe("unsafe_archive");
  });

  it("resolves relative link targets and refuses those that leave the workspace", () => {
    expect(resolveLinkTarget(["a", "link"], "../b/c")).toEqual(["b", "c"]);
    expect(resolveLinkTarget(["link"], "./x")).toEqual(["x"]);
    expect(resolveLinkTarget(["a", "b", "link"], "..")).toEqual(["a"]);
    expect(codeOf(() => resolveLinkTarget(["link"], "/etc/passwd"))).toBe("unsafe_archive");
    expect(codeOf(() => resolveLinkTarget(["link"], "../etc"))).toBe("unsafe_archive");
    expect(codeOf(() => resolveLinkTarget(["a", "link"], "../../x"))).toBe("unsafe_archive");
    expect(codeOf(() => resolveLinkTarget(["link"], ""))).toBe("unsafe_archive");
  });
});
