import { ProvisionerError } from "../errors.ts";

/**
 * Paths inside a workspace come from users and are hostile until proven otherwise. A valid path is
 * relative, made of non-empty segments, none of them "." or "..", with no NUL, backslash or
 * control character. Symbolic links are handled where the file system is read (files.ts), since
 * only Docker can tell that a segment is a link.
 */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const FORBIDDEN = /[\u0000-\u001f\u007f\\]/;

function checkSegment(segment: string): string | null {
  if (segment === "") return "empty segment (absolute path or '//')";
  if (segment === "." || segment === "..") return "'.' and '..' are not allowed";
  if (segment.includes("/")) return "encoded '/' inside a segment";
  if (FORBIDDEN.test(segment)) return "NUL, backslash and control characters are not allowed";
  if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) return "a name is longer than 255 bytes";
  return null;
}

/** Splits a decoded relative path ("dir/file.txt") into checked segments, or throws `invalid_path`. */
export function workspacePathSegments(path: string): string[] {
  if (path === "") throw new ProvisionerError("invalid_path", "empty path");
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new ProvisionerError("invalid_path", "path longer than 4096 bytes");
  const segments = path.split("/");
  for (const segment of segments) {
    const problem = checkSegment(segment);
    if (problem) throw new ProvisionerError("invalid_path", problem);
  }
  return segments;
}

/**
 * The same for the raw (percent-encoded) tail of a request URL: each segment is decoded on its
 * own, so "%2F", "%2E%2E" and "%00" cannot smuggle a separator, a dot segment or a NUL.
 */
export function parseRawWorkspacePath(raw: string): string[] {
  if (raw === "") throw new ProvisionerError("invalid_path", "empty path");
  const segments = raw.split("/").map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new ProvisionerError("invalid_path", "malformed percent-encoding");
    }
  });
  for (const segment of segments) {
    const problem = checkSegment(segment);
    if (problem) throw new ProvisionerError("invalid_path", problem);
  }
  if (Buffer.byteLength(segments.join("/")) > MAX_PATH_BYTES) throw new ProvisionerError("invalid_path", "path longer than 4096 bytes");
  return segments;
}

/**
 * The path of a tar entry relative to the workspace root, or null for the root itself ("./").
 * Throws `unsafe_archive` for absolute names, "..", empty segments, NUL or backslash.
 */
export function archiveEntryPath(name: string): string[] | null {
  let path = name;
  while (path.startsWith("./")) path = path.slice(2);
  path = path.replace(/\/+$/, "");
  if (path === "" || path === ".") return null;
  if (name.startsWith("/")) throw new ProvisionerError("unsafe_archive", "absolute entry name");
  const segments = path.split("/");
  for (const segment of segments) {
    const problem = checkSegment(segment);
    if (problem) throw new ProvisionerError("unsafe_archive", `entry name: ${problem}`);
  }
  return segments;
}

/**
 * Where a symlink at `entry` pointing to `target` lands, relative to the workspace root; throws
 * `unsafe_archive` when the target is absolute or climbs above the root.
 */
export function resolveLinkTarget(entry: readonly string[], target: string): string[] {
  if (target === "" || target.startsWith("/")) throw new ProvisionerError("unsafe_archive", "symlink with an absolute or empty target");
  if (FORBIDDEN.test(target)) throw new ProvisionerError("unsafe_archive", "symlink target with NUL, backslash or control characters");
  const resolved = entry.slice(0, -1);
  for (const segment of target.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (resolved.length === 0) throw new ProvisionerError("unsafe_archive", "symlink pointing outside the workspace");
      resolved.pop();
    } else resolved.push(segment);
  }
  return resolved;
}
