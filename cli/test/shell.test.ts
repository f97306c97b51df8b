/** `ozekai shell` in a pseudo-terminal (and after `connect` there), its refusal without one, and `ozekai forward`. */
import { createServer } from "node:net";
import { describe, expect, inject, it } from "vitest";
import { entitledUser, ozekai, ozekaiInTerminal, readProfile, runningSession, shown, startOzekai } from "./harness.ts";

/** A port free on 127.0.0.1 now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("shell", () => {
  it("runs what is typed with the terminal's size; ~. detaches, exit 0, the session still runs", async () => {
    const user = await entitledUser();
    const id = await runningSession(user);
    const ran = await ozekaiInTerminal(["shell"], [{ after: "to detach", send: "stty size\r" }, { after: "40 120", send: "\r~." }], { configDir: user.configDir });
    expect(ran.code, ran.screen).toBe(0);
    expect(ran.screen).toContain("Detached: the session keeps running and billing");
    const view = await fetch(`${inject("apiUrl")}/v1/sessions/${id}`, { headers: { Authorization: `Bearer ${readProfile(user.configDir).accessToken}` } });
    expect(((await view.json()) as { state: string }).state).toBe("running");
  }, 90_000);

  it("without a terminal: exit 2, pointing to exec", async () => {
    const user = await entitledUser();
    const ran = await ozekai(["shell"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(2);
    expect(ran.stderr).toContain("ozekai exec");
  });

  it("connect at a terminal opens the shell once the session is usable", async () => {
    const user = await entitledUser();
    const ran = await ozekaiInTerminal(["connect"], [{ after: "to detach", send: "echo shell-$((6*7))\r" }, { after: "shell-42", send: "\r~." }], { configDir: user.configDir });
    expect(ran.code, ran.screen).toBe(0);
    expect(ran.screen).toContain("Billing now:");
    expect(ran.screen).toContain("Detached: the session keeps running and billing");
  }, 120_000);
});

describe("forward", () => {
  it("carries a local port to a server in the container; Ctrl-C stops it", async () => {
    const user = await entitledUser();
    await runningSession(user);
    const served = await ozekai(["exec", "--", "sh", "-c", "mkdir -p /tmp/www && echo forwarded-page > /tmp/www/index.html && httpd -p 8000 -h /tmp/www"], { configDir: user.configDir });
    expect(served.code, shown(served)).toBe(0);
    const local = await freePort();
    const forward = startOzekai(["forward", `${local}:8000`], { configDir: user.configDir });
    try {
      let page = "";
      for (let i = 0; i < 40 && page === ""; i++) {
        page = await fetch(`http://127.0.0.1:${local}/`).then((r) => r.text()).catch(() => "");
        if (page === "") await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(page).toBe("forwarded-page\n");
      // Two requests at once: one WebSocket each.
      const both = await Promise.all([1, 2].map(() => fetch(`http://127.0.0.1:${local}/`).then((r) => r.text())));
      expect(both).toEqual(["forwarded-page\n", "forwarded-page\n"]);
    } finally {
      forward.child.kill("SIGINT");
    }
    const ended = await forward.done;
    expect(ended.code, shown(ended)).toBe(0);
    expect(ended.stderr + ended.stdout).toContain(`http://127.0.0.1:${local}`);
  }, 90_000);

  it("a bad port is a usage error (exit 2); a local port in use: exit 5", async () => {
    const user = await entitledUser();
    for (const spec of ["0", "70000", "abc", "80:"]) expect((await ozekai(["forward", spec], { configDir: user.configDir })).code, spec).toBe(2);
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      await runningSession(user);
      const taken = await ozekai(["forward", String((busy.address() as { port: number }).port)], { configDir: user.configDir });
      expect(taken.code, shown(taken)).toBe(5);
    } finally {
      busy.close();
    }
  }, 90_000);
});
