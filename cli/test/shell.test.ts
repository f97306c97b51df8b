/** `ozekai shell` in a pseudo-terminal (and after `connect` there), its refusal without one, and `ozekai forward`. */
import { createServer } from "node:net";
import { describe, expect, inject, it } from "vitest";
import { entitledUser, logIn, ozekai, ozekaiInTerminal, readProfile, runningSession, shown, startOzekai, startProxy } from "./harness.ts";

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

describe("shell when the connection ends", () => {
  it("a network drop (every connection cut, no close frame): a line on stderr, a new shell, and the next command runs", async () => {
    const user = await entitledUser();
    await runningSession(user);
    const proxy = await startProxy();
    try {
      // Sign-ins are kept per API URL: this one is the proxy's.
      await logIn(user, proxy.url);
      let cut = 0;
      const ran = await ozekaiInTerminal(
        ["--api-url", proxy.url, "shell"],
        [
          { after: "to detach", send: "echo before-$((20+1))\r" },
          {
            after: "before-21",
            send: () => {
              cut = proxy.cut();
              return undefined;
            },
          },
          { after: "reconnected", send: "echo after-$((40+2))\r" },
          { after: "after-42", send: "\r~." },
        ],
        { configDir: user.configDir, killAfterMs: 90_000 },
      );
      expect(ran.code, ran.screen).toBe(0);
      expect(cut).toBeGreaterThan(0);
      expect(ran.screen).toContain("ozekai: The connection dropped.");
      expect(ran.screen).toContain("reconnecting in 1 s (try 1 of 5)");
      expect(ran.screen).toContain("This is a new shell: the old one was hung up");
      expect(ran.screen).toContain("Detached: the session keeps running and billing");
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it("the sign-in ended elsewhere (`ozekai logout` in another process): closed with 4401, exit 3, no reconnect", async () => {
    const user = await entitledUser();
    await runningSession(user);
    let logout: Awaited<ReturnType<typeof ozekai>> | undefined;
    const ran = await ozekaiInTerminal(
      ["shell"],
      [
        { after: "to detach", send: "echo signed-in-$((1+2))\r" },
        {
          after: "signed-in-3",
          send: async () => {
            logout = await ozekai(["logout"], { configDir: user.configDir });
            return undefined;
          },
        },
      ],
      { configDir: user.configDir, killAfterMs: 90_000 },
    );
    expect(logout && shown(logout), ran.screen).toMatch(/^exit 0/);
    expect(ran.code, ran.screen).toBe(3);
    expect(ran.screen).toContain("Your sign-in has ended (logout, a password change or a deletion). Sign in again with `ozekai login`.");
    expect(ran.screen).not.toContain("reconnecting");
  }, 120_000);
});

describe("forward", () => {
  it("carries a local port to a server in the container; Ctrl-C stops it", async () => {
    const user = await entitledUser();
    await runningSession(user);
    const served = await ozekai(["exec", "--", "sh", "-c", "mkdir -p /tmp/www && echo forwarded-page > /tmp/www/index.html && (setsid python3 -m http.server 8000 --bind 0.0.0.0 --directory /tmp/www </dev/null >/dev/null 2>&1 &)"], { configDir: user.configDir });
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
