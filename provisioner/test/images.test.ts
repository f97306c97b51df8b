/**
 * The catalog's images as a host builds them (workers/domain/plans/images.ts): every Dockerfile's
 * base pinned by digest (or another catalog image built here from a pinned one), a non-root
 * USER with uid 1000, and the build scripts linted (bash -n and shellcheck). The GPU images are
 * built and run only on a GPU host (scripts/gpu-device-check.sh).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { IMAGES } from "../../workers/domain/plans/images.ts";
import { DEFAULT_IMAGES } from "../src/config.ts";
import { WORKSPACE_USER } from "../src/containers/spec.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIGEST = /@sha256:[0-9a-f]{64}$/;

const dockerfiles = IMAGES.filter((image) => image.build.endsWith("Dockerfile"));
const scripts = [...IMAGES.filter((image) => image.build.endsWith(".sh")).map((image) => image.build), "provisioner/scripts/gpu-device-check.sh", "scripts/ensure-docker.sh"];

/** A Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(path: string): { keyword: string; args: string }[] {
  return readFileSync(`${ROOT}${path}`, "utf8")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

describe("the catalog on a host", () => {
  it("a host allows by default the catalog images every host builds without a GPU: minimal and base", () => {
    expect(DEFAULT_IMAGES.split(",")).toEqual(IMAGES.filter((image) => !image.build.endsWith("Dockerfile")).map((image) => image.reference));
  });
});

describe("the catalog's Dockerfiles", () => {
  it("the catalog names two GPU images built from Dockerfiles, and every build path exists", () => {
    expect(dockerfiles.map((image) => image.name)).toEqual(["cuda", "pytorch"]);
    for (const image of IMAGES) expect(existsSync(`${ROOT}${image.build}`), image.build).toBe(true);
  });

  it.each(dockerfiles.map((image) => [image.name, image.build] as const))("%s: every FROM is pinned by digest or is a catalog image built here", (_name, path) => {
    const froms = instructions(path).filter((i) => i.keyword === "FROM");
    expect(froms.length).toBeGreaterThan(0);
    for (const { args } of froms) {
      const [reference = ""] = args.split(/\s+/);
      expect(reference, "no build-time variable in a FROM: what is pinned is what is built").not.toContain("$");
      if (DIGEST.test(reference)) continue;
      // Another catalog image, built on this host from its own Dockerfile, itself pinned (checked by its own case).
      const base = IMAGES.find((image) => image.reference === reference);
      expect(base, `${path}: FROM ${reference} is neither pinned by digest nor a catalog image`).toBeDefined();
      expect(base!.build.endsWith("Dockerfile")).toBe(true);
      expect(base!.build).not.toBe(path);
    }
  });

  it.each(dockerfiles.map((image) => [image.name, image.build] as const))("%s: runs as the unprivileged user, uid 1000, home /workspace", (_name, path) => {
    const all = instructions(path);
    const users = all.filter((i) => i.keyword === "USER");
    // The last USER is what a container runs as when nothing says otherwise (the provisioner says 1000:1000 too).
    expect(users.at(-1)?.args).toBe(WORKSPACE_USER);
    const text = all.map((i) => `${i.keyword} ${i.args}`).join("\n");
    // The user is made in the image (the first Dockerfile of the chain) with that uid and home.
    if (all.some((i) => i.keyword === "FROM" && DIGEST.test(i.args.split(/\s+/)[0]!))) {
      expect(text).toMatch(/useradd --uid 1000 --gid 1000 --home-dir \/workspace/);
    }
    expect(text).toMatch(/ENV .*HOME=\/workspace|FROM ozekai\//);
  });
});

describe("the build scripts", () => {
  it.each(scripts)("%s parses (bash -n)", (path) => {
    const parsed = spawnSync("bash", ["-n", `${ROOT}${path}`], { encoding: "utf8" });
    expect(parsed.status, parsed.stderr).toBe(0);
  });

  it("pass shellcheck (Debian's shellcheck, installed by scripts/ensure-docker.sh)", () => {
    const found = spawnSync("shellcheck", ["--version"]);
    expect(found.error, "shellcheck is not installed: bash scripts/ensure-docker.sh installs it").toBeUndefined();
    const checked = spawnSync("shellcheck", scripts.map((path) => `${ROOT}${path}`), { encoding: "utf8" });
    expect(checked.status, checked.stdout).toBe(0);
  });

  it("gpu-device-check.sh builds cuda and pytorch and checks CUDA in pytorch through the provisioner's spec", () => {
    const script = readFileSync(`${ROOT}provisioner/scripts/gpu-device-check.sh`, "utf8");
    expect(script).toContain(`images/$name/Dockerfile`);
    expect(script).toContain(`start_gpu_container "ozekai/pytorch:local"`);
    expect(script).toContain("torch.cuda.is_available()");
    // What the script builds and runs is what the catalog names.
    expect(dockerfiles.map((image) => image.reference)).toEqual(["ozekai/cuda:local", "ozekai/pytorch:local"]);
  });
});
