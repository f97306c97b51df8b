/** plans, billing, subscribe, completion, doctor: each one's --json document, and their failures. */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/lib/processes.ts";
import { jsonOf, newConfigDir, ozekai, shown, signedInUser, type TestUser, verifyEmail } from "./harness.ts";

/** Whether `shell` is on this machine's PATH (zsh and fish are not everywhere). */
const installed = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;

let user: TestUser;
beforeAll(async () => {
  user = await signedInUser();
});

describe("plans", () => {
  it("lists the catalog; the plan with Stripe prices is purchasable", async () => {
    const ran = await ozekai(["plans", "--json"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(0);
    const { data } = jsonOf(ran);
    const plans = data?.plans as { id: string; purchasable: boolean }[];
    expect(plans.find((p) => p.id === "cpu-small")).toMatchObject({ purchasable: true });
    expect(plans.find((p) => p.id === "h100-8")).toMatchObject({ purchasable: false });
    const human = await ozekai(["plans"], { configDir: newConfigDir() });
    expect(human.stdout).toMatch(/cpu-small .*\$\d+\.\d\d\/h/);
  });
});

describe("billing and subscribe", () => {
  it("billing: no plan, no subscription", async () => {
    const ran = await ozekai(["billing", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    expect(jsonOf(ran)).toEqual({ ok: true, command: "billing", data: { hasCustomer: false, planId: null, status: null, currentPeriodEnd: null, graceEndsAt: null } });
  });

  it("subscribe: refused until the email is verified, then prints the Checkout page (never opens a browser here)", async () => {
    const refused = await ozekai(["subscribe", "cpu-small", "--json"], { configDir: user.configDir });
    expect(refused.code, shown(refused)).toBe(1);
    expect(jsonOf(refused)).toMatchObject({ ok: false, command: "subscribe", error: { status: 403, code: "email_unverified", requestId: expect.any(String) } });

    await verifyEmail(user.username);
    const ran = await ozekai(["subscribe", "cpu-small", "--json"], { configDir: user.configDir, env: { DISPLAY: ":0" } });
    expect(ran.code, shown(ran)).toBe(0);
    expect(jsonOf(ran)).toEqual({ ok: true, command: "subscribe", data: { planId: "cpu-small", url: expect.stringMatching(/^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/), opened: false } });

    const human = await ozekai(["subscribe", "cpu-small"], { configDir: user.configDir, env: { DISPLAY: ":0" } });
    expect(human.code, shown(human)).toBe(0);
    expect(human.stdout).toMatch(/^https:\/\/checkout\.stripe\.test\//m);
    expect(human.stderr).not.toContain("Opened");
  });

  it("subscribe to a plan that does not exist: the API's validation, exit 2", async () => {
    const ran = await ozekai(["subscribe", "no-such-plan", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(2);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { kind: "usage", status: 400, code: "validation_failed", fields: [expect.objectContaining({ field: "planId" })] } });
  });

  it("billing signed out: exit 3 before any request", async () => {
    const ran = await ozekai(["billing", "--json"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(3);
  });
});

describe("completion", () => {
  it.each(["bash", "zsh", "fish"])("%s: a script naming every command", async (shell) => {
    const ran = await ozekai(["completion", shell, "--json"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(0);
    const { data } = jsonOf(ran);
    expect(data?.shell).toBe(shell);
    for (const command of ["signup", "login", "logout", "whoami", "plans", "subscribe", "billing", "completion", "doctor"]) expect(data?.script).toContain(command);
  });

  it("bash: the script completes commands and a command's options", async () => {
    const ran = await ozekai(["completion", "bash"], { configDir: newConfigDir() });
    const complete = (words: string) =>
      spawnSync("bash", ["-c", `${ran.stdout}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _ozekai; echo "\${COMPREPLY[*]}"`], { encoding: "utf8" });
    expect(complete("ozekai lo").stdout.trim().split(" ").sort()).toEqual(["login", "logout"]);
    expect(complete("ozekai login --pa").stdout.trim()).toBe("--password-stdin");
    expect(complete("ozekai completion f").stdout.trim()).toBe("fish");
  });

  it("bash: the script parses (bash -n) and, sourced, registers _ozekai for ozekai", async () => {
    const { stdout: script } = await ozekai(["completion", "bash"], { configDir: newConfigDir() });
    const parsed = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    expect(parsed.status, parsed.stderr).toBe(0);
    const loaded = spawnSync("bash", ["-c", `${script}\ncomplete -p ozekai`], { encoding: "utf8" });
    expect(loaded.stdout.trim(), loaded.stderr).toBe("complete -F _ozekai ozekai");
  });

  it.skipIf(!installed("zsh"))("zsh: the script parses (zsh -n) and, sourced after compinit, registers _ozekai for ozekai", async () => {
    const { stdout: script } = await ozekai(["completion", "zsh"], { configDir: newConfigDir() });
    const parsed = spawnSync("zsh", ["-n"], { input: script, encoding: "utf8" });
    expect(parsed.status, parsed.stderr).toBe(0);
    // -f: none of this machine's startup files; compinit -D: no dump file written.
    const loaded = spawnSync("zsh", ["-fc", `autoload -U compinit; compinit -u -D\n${script}\nprint -r -- $_comps[ozekai]; whence -w _ozekai`], { encoding: "utf8" });
    expect(loaded.stdout.trim().split("\n"), loaded.stderr).toEqual(["_ozekai", "_ozekai: function"]);
  });

  it.skipIf(!installed("fish"))("fish: the script parses (fish -n) and completes commands, a command's options and completion's shells", async () => {
    const { stdout: script } = await ozekai(["completion", "fish"], { configDir: newConfigDir() });
    const file = join(newConfigDir(), "ozekai.fish");
    writeFileSync(file, script);
    const parsed = spawnSync("fish", ["-n", file], { encoding: "utf8" });
    expect(parsed.status, parsed.stderr).toBe(0);
    // Its own HOME: fish writes its config and history there.
    const complete = (line: string) =>
      spawnSync("fish", ["-c", `${script}\ncomplete -C ${JSON.stringify(line)}`], { encoding: "utf8", env: { ...process.env, HOME: newConfigDir() } })
        .stdout.trim()
        .split("\n")
        .map((row) => row.split("\t")[0]);
    expect(complete("ozekai lo").sort()).toEqual(["login", "logout"]);
    expect(complete("ozekai connect --ti")).toEqual(["--timeout"]);
    expect(complete("ozekai completion ").sort()).toEqual(["bash", "fish", "zsh"]);
  });
});

describe("doctor", () => {
  it("signed in: the API, the clock, the API's version and the sign-in are all fine", async () => {
    const ran = await ozekai(["doctor", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    const checks = jsonOf(ran).data?.checks as { name: string; status: string; detail: string }[];
    // wrangler dev sends no Date header (Cloudflare's edge adds it): the clock is checked below.
    expect(Object.fromEntries(checks.map((c) => [c.name, c.status]))).toEqual({ cli: "ok", api: "ok", clock: "skip", "api version": "ok", "sign-in": "ok" });
    expect(checks.find((c) => c.name === "sign-in")?.detail).toContain(user.username);
    expect(checks.find((c) => c.name === "cli")?.detail).toContain(process.version);
  });

  it("not signed in: the sign-in check is skipped, the rest passes", async () => {
    const ran = await ozekai(["doctor"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(0);
    expect(ran.stdout).toMatch(/skip sign-in +not signed in/);
  });

  it("a refused token fails the check: exit 1, the checks in the document", async () => {
    const ran = await ozekai(["doctor", "--json"], { configDir: newConfigDir(), env: { OZEKAI_TOKEN: "not.a.token" } });
    expect(ran.code, shown(ran)).toBe(1);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { kind: "error" }, data: { checks: expect.arrayContaining([expect.objectContaining({ name: "sign-in", status: "fail" })]) } });
  });

  it("the clock: compared with the API's Date header, a skew of minutes fails", async () => {
    // A stand-in API answering only what the clock check reads, with the Date header it is told.
    let date = new Date();
    const server = createServer((req, res) => {
      res.setHeader("Date", date.toUTCString());
      res.setHeader("Content-Type", "application/json");
      res.end(req.url === "/healthz" ? '{"status":"ok"}' : '{"info":{"version":"1"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const env = { OZEKAI_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    try {
      const right = jsonOf(await ozekai(["doctor", "--json"], { configDir: newConfigDir(), env }));
      expect(right.data?.checks).toContainEqual({ name: "clock", status: "ok", detail: expect.stringMatching(/^[+-][01] s against the API$/) });
      date = new Date(Date.now() - 10 * 60_000);
      const ran = await ozekai(["doctor", "--json"], { configDir: newConfigDir(), env });
      expect(ran.code, shown(ran)).toBe(1);
      expect(jsonOf(ran).data?.checks).toContainEqual({ name: "clock", status: "fail", detail: expect.stringMatching(/^-(59|60)\d s against the API: set this machine's clock/) });
    } finally {
      server.close();
    }
  });

  it("the API out of reach: exit 6", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const ran = await ozekai(["doctor", "--json"], { configDir: newConfigDir(), env: { OZEKAI_API_URL: closed } });
    expect(ran.code, shown(ran)).toBe(6);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { kind: "unavailable" }, data: { checks: expect.arrayContaining([expect.objectContaining({ name: "api", status: "fail" })]) } });
  });
});
