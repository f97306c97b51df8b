/** `ozekai images`, `ozekai connect --image`, and `ozekai jupyter`, on the images this machine builds. */
import { createServer } from "node:net";
import type { ChildProcess } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { entitledUser, jsonOf, newConfigDir, ozekai, shown, startOzekai, type TestUser } from "./harness.ts";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The first line on stdout of a command that keeps running (jupyter's URL, or its --json document). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.includes("\n")) resolve(text.slice(0, text.indexOf("\n")));
    });
    child.once("close", () => reject(new Error(`exited before a line: ${text}`)));
  });
}

/**
 * A stand-in for JupyterLab, installed where `pip install --user` would put it: it serves the
 * token it was given (JUPYTER_TOKEN) at /lab/ on the address and port asked for, with the image's Python.
 */
const STAND_IN = `#!/bin/sh
for a; do case "$a" in --port=*) port="\${a#--port=}" ;; --ip=*) ip="\${a#--ip=}" ;; esac; done
mkdir -p /tmp/stand-in/lab && printf '%s' "$JUPYTER_TOKEN" >/tmp/stand-in/lab/index.html
exec python3 -m http.server "$port" --bind "$ip" --directory /tmp/stand-in
`;

describe("images", () => {
  it("--json lists the catalog; a person reads each image's plans and defaults", async () => {
    const listed = await ozekai(["images", "--json"], { configDir: newConfigDir() });
    expect(listed.code, shown(listed)).toBe(0);
    const images = jsonOf(listed).data?.images as { name: string; defaultFor: string[]; jupyter: boolean }[];
    expect(images.map((i) => i.name)).toEqual(["minimal", "base", "cuda", "pytorch"]);
    expect(images.find((i) => i.name === "base")?.defaultFor).toEqual(["cpu-small"]);
    const human = await ozekai(["images"], { configDir: newConfigDir() });
    expect(human.stdout).toMatch(/^base +Debian .*default for cpu-small · ssh$/m);
    expect(human.stdout).toMatch(/^pytorch .*jupyter · ssh$/m);
    expect(human.stdout).toMatch(/^minimal +A static busybox shell[^·\n]*· plans: [^·\n]*$/m);
  });

  it("shell completion knows images, jupyter and connect's --image", async () => {
    const { stdout } = await ozekai(["completion", "bash"], { configDir: newConfigDir() });
    expect(stdout).toContain(" images ");
    expect(stdout).toMatch(/jupyter\) words='--port --session --timeout/);
    expect(stdout).toMatch(/connect\) words='[^']*--image/);
  });
});

describe("a session on base", () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await entitledUser();
  });

  it("connect --image base runs it: Python 3 answers through exec, and status shows the image", async () => {
    const connected = await ozekai(["connect", "--image", "base", "--no-shell", "--json"], { configDir: user.configDir, killAfterMs: 120_000 });
    expect(connected.code, shown(connected)).toBe(0);
    expect(jsonOf(connected).data).toMatchObject({ session: { image: "base", state: "running" } });
    const python = await ozekai(["exec", "--", "python3", "-c", "print(1+1)"], { configDir: user.configDir });
    expect(python.code, shown(python)).toBe(0);
    expect(python.stdout).toBe("2\n");
    const status = await ozekai(["status"], { configDir: user.configDir });
    expect(status.stdout).toMatch(/^image +base$/m);
    const other = await ozekai(["connect", "--image", "minimal", "--no-shell"], { configDir: user.configDir });
    expect(other.code, shown(other)).toBe(5);
    expect(other.stderr).toContain("runs the base image; disconnect first");
  }, 150_000);

  it("jupyter without JupyterLab in the image: a clear message, exit 4, nothing listens", async () => {
    const local = await freePort();
    const ran = await ozekai(["jupyter", "--port", String(local), "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(4);
    expect(jsonOf(ran)).toMatchObject({ ok: false, command: "jupyter", error: { kind: "not_found", exitCode: 4 } });
    expect(ran.stderr).toContain("JupyterLab is not installed");
    expect(ran.stderr).toContain("the base image");
    expect(await fetch(`http://127.0.0.1:${local}/`).then(() => "answered", () => "refused")).toBe("refused");
  });

  it("jupyter (a stand-in jupyter-lab in ~/.local/bin: PyPI is out of reach here) starts it with a fresh token, forwards it and prints the URL; a second run reuses it with the same token", async () => {
    const installed = await ozekai(["exec", "--", "sh", "-c", 'mkdir -p "$HOME/.local/bin" && cat >"$HOME/.local/bin/jupyter-lab" && chmod +x "$HOME/.local/bin/jupyter-lab"'], {
      configDir: user.configDir,
      stdin: STAND_IN,
    });
    expect(installed.code, shown(installed)).toBe(0);
    const tokens: string[] = [];
    for (const json of [false, true]) {
      const local = await freePort();
      const jupyter = startOzekai(["jupyter", "--port", String(local), "--timeout", "60", ...(json ? ["--json"] : [])], { configDir: user.configDir, killAfterMs: 120_000 });
      try {
        const line = await firstLine(jupyter.child);
        const url = json ? (JSON.parse(line) as { data: { url: string; token: string } }).data.url : line;
        const match = new RegExp(`^http://127\\.0\\.0\\.1:${local}/lab\\?token=([0-9a-f]{48})$`).exec(url);
        expect(match, line).not.toBeNull();
        tokens.push(match![1]!);
        // Through the authenticated forward to the server in the container, which got the same token.
        expect(await fetch(url).then((r) => r.text())).toBe(match![1]);
      } finally {
        jupyter.child.kill("SIGINT");
      }
      const ended = await jupyter.done;
      expect(ended.code, shown(ended)).toBe(0);
    }
    expect(tokens[1]).toBe(tokens[0]);
    // The token is never in a command line in the container.
    const ps = await ozekai(["exec", "--", "sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"], { configDir: user.configDir });
    expect(ps.stdout).toContain("http.server");
    expect(ps.stdout).not.toContain(tokens[0]);
  }, 150_000);
});
