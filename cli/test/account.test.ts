/** signup, login, whoami, logout, OZEKAI_TOKEN, and the exit codes of the ways they fail. */
import { mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../bench/lib/processes.ts";
import { jsonOf, logIn, newConfigDir, ozekai, profileFile, readProfile, shown, signedInUser, signUp } from "./harness.ts";

/** No stack trace, no secret: what an error run may never show. */
function expectCleanFailure(ran: { stdout: string; stderr: string }, secrets: string[] = []) {
  expect(ran.stderr).not.toMatch(/\n\s+at /);
  for (const secret of secrets) expect(ran.stdout + ran.stderr).not.toContain(secret);
}

describe("login and whoami", () => {
  it("signs in with --password-stdin, keeps the sign-in in a 0600 file, and whoami names the account", async () => {
    const user = await signUp();
    const login = await ozekai(["login", "--user", user.username, "--password-stdin", "--json"], { configDir: user.configDir, stdin: `${user.password}\n` });
    expect(login.code, shown(login)).toBe(0);
    expect(jsonOf(login)).toEqual({ ok: true, command: "login", data: { apiUrl: expect.any(String), username: user.username } });
    const profile = readProfile(user.configDir);
    expect(statSync(profileFile(user.configDir)).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(profileFile(user.configDir))).mode & 0o077).toBe(0);
    // Neither the password nor a token is ever printed.
    for (const secret of [user.password, profile.accessToken, profile.refreshToken]) expect(login.stdout + login.stderr).not.toContain(secret);

    const whoami = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(whoami.code, shown(whoami)).toBe(0);
    expect(jsonOf(whoami)).toMatchObject({ ok: true, command: "whoami", data: { username: user.username, email: user.email, emailVerified: false, planId: null, tokenSource: "profile" } });
    expect(whoami.stderr).toBe("");

    const human = await ozekai(["whoami"], { configDir: user.configDir });
    expect(human.code, shown(human)).toBe(0);
    expect(human.stdout).toContain(user.username);
    expect(human.stdout).toContain("not verified yet");
  });

  it("a wrong password: the API's message and request id, exit 3, nothing stored", async () => {
    const user = await signUp();
    const wrong = `${user.password} typo`;
    const ran = await ozekai(["login", "--user", user.username, "--password-stdin"], { configDir: user.configDir, stdin: wrong });
    expect(ran.code, shown(ran)).toBe(3);
    expect(ran.stderr).toContain("The username, email or password is not correct.");
    expect(ran.stderr).toMatch(/request id: \S+/);
    expect(ran.stdout).toBe("");
    expectCleanFailure(ran, [wrong]);
    expect(() => readProfile(user.configDir)).toThrow();

    const json = jsonOf(await ozekai(["login", "--user", user.username, "--password-stdin", "--json"], { configDir: user.configDir, stdin: wrong }));
    expect(json).toMatchObject({ ok: false, command: "login", error: { kind: "not_signed_in", exitCode: 3, status: 401, code: "invalid_credentials", requestId: expect.any(String) } });
  });

  it("without a terminal a missing password is a usage error naming --password-stdin", async () => {
    const ran = await ozekai(["login", "--user", "someone"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(2);
    expect(ran.stderr).toContain("--password-stdin");
    expectCleanFailure(ran);
  });
});

describe("logout", () => {
  it("revokes the sign-in on the server and forgets it; whoami is then exit 3", async () => {
    const user = await signedInUser();
    const { accessToken } = readProfile(user.configDir);
    const logout = await ozekai(["logout", "--json"], { configDir: user.configDir });
    expect(logout.code, shown(logout)).toBe(0);
    expect(jsonOf(logout)).toMatchObject({ ok: true, command: "logout", data: { signedOut: true } });
    expect(readdirSync(dirname(profileFile(user.configDir)))).toEqual([]);

    const whoami = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(whoami.code, shown(whoami)).toBe(3);
    expect(jsonOf(whoami)).toMatchObject({ ok: false, command: "whoami", error: { kind: "not_signed_in", exitCode: 3 } });
    expect(whoami.stderr).toContain("ozekai login");

    // Revoked server-side, not only forgotten: the old access token is refused.
    const replay = await ozekai(["whoami"], { configDir: newConfigDir(), env: { OZEKAI_TOKEN: accessToken } });
    expect(replay.code, shown(replay)).toBe(3);
    expect(replay.stderr).toMatch(/sign-in has ended|not valid/);
    expect(replay.stderr).toMatch(/request id: \S+/);

    const again = await ozekai(["logout", "--json"], { configDir: user.configDir });
    expect(again.code, shown(again)).toBe(0);
    expect(jsonOf(again)).toMatchObject({ data: { signedOut: false } });
  });
});

describe("OZEKAI_TOKEN", () => {
  it("is used as is and never stored", async () => {
    const user = await signedInUser();
    const { accessToken } = readProfile(user.configDir);
    const ci = newConfigDir();
    const ran = await ozekai(["whoami", "--json"], { configDir: ci, env: { OZEKAI_TOKEN: accessToken } });
    expect(ran.code, shown(ran)).toBe(0);
    expect(jsonOf(ran)).toMatchObject({ data: { username: user.username, tokenSource: "OZEKAI_TOKEN" } });
    expect(readdirSync(ci)).toEqual([]);
    expect(ran.stdout + ran.stderr).not.toContain(accessToken);
  });

  it("a token that is not one: exit 3", async () => {
    const ran = await ozekai(["whoami", "--json"], { configDir: newConfigDir(), env: { OZEKAI_TOKEN: "not.a.token" } });
    expect(ran.code, shown(ran)).toBe(3);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { status: 401, code: "unauthorized" } });
  });
});

describe("the API out of reach", () => {
  it("OZEKAI_API_URL at a closed port: exit 6 and a clear message", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const ran = await ozekai(["plans"], { configDir: newConfigDir(), env: { OZEKAI_API_URL: closed } });
    expect(ran.code, shown(ran)).toBe(6);
    expect(ran.stderr).toContain(`Cannot reach the Ozekai API at ${closed} (ECONNREFUSED)`);
    expectCleanFailure(ran);

    const json = await ozekai(["plans", "--json"], { configDir: newConfigDir(), env: { OZEKAI_API_URL: closed } });
    expect(json.code).toBe(6);
    expect(jsonOf(json)).toMatchObject({ ok: false, command: "plans", error: { kind: "unavailable", exitCode: 6 } });
  });

  it("--api-url wins over OZEKAI_API_URL", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const ran = await ozekai(["plans", "--api-url", closed, "--json"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(6);
    expect(jsonOf(ran).error?.message).toContain(closed);
  });

  it.each(["ftp://example.com", "not a url", "http://example.com"])("%s is refused before any request: exit 2 (policy §5: TLS but on this machine)", async (url) => {
    const ran = await ozekai(["plans", "--api-url", url, "--json"], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(2);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { kind: "usage" } });
  });
});

describe("usage errors", () => {
  it.each([
    [["login", "--bogus"]],
    [["no-such-command"]],
    [["subscribe"]],
    [["completion", "tcsh"]],
  ])("ozekai %j → exit 2, one JSON document with --json", async (args) => {
    const ran = await ozekai(args, { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(2);
    expect(ran.stderr).toMatch(/error: /);
    expectCleanFailure(ran);
    const json = await ozekai([...args, "--json"], { configDir: newConfigDir() });
    expect(json.code, shown(json)).toBe(2);
    expect(jsonOf(json)).toMatchObject({ ok: false, error: { kind: "usage", exitCode: 2 } });
  });

  it("--version and --help exit 0", async () => {
    const version = await ozekai(["--version"], { configDir: newConfigDir() });
    expect(version.code, shown(version)).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await ozekai(["--help"], { configDir: newConfigDir() });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("whoami");
    // With --json stdout holds documents only: the help goes to stderr.
    const jsonHelp = await ozekai(["whoami", "--help", "--json"], { configDir: newConfigDir() });
    expect(jsonHelp.code).toBe(0);
    expect(jsonHelp.stdout).toBe("");
    expect(jsonHelp.stderr).toContain("Usage: ozekai whoami");
  });

  it("no command: the help on stderr, exit 2", async () => {
    const ran = await ozekai([], { configDir: newConfigDir() });
    expect(ran.code, shown(ran)).toBe(2);
    expect(ran.stderr).toContain("Usage: ozekai");
    const json = await ozekai(["--json"], { configDir: newConfigDir() });
    expect(json.code).toBe(2);
    expect(jsonOf(json)).toMatchObject({ ok: false, command: "ozekai", error: { kind: "usage", message: expect.stringContaining("ozekai --help") } });
  });
});

describe("a damaged profile", () => {
  it("is named, with what to do: exit 1, no stack trace", async () => {
    const configDir = newConfigDir();
    mkdirSync(dirname(profileFile(configDir)), { recursive: true });
    writeFileSync(profileFile(configDir), "{ not json", { mode: 0o600 });
    const ran = await ozekai(["whoami"], { configDir });
    expect(ran.code, shown(ran)).toBe(1);
    expect(ran.stderr).toContain(`${profileFile(configDir)} does not hold a sign-in: delete it and sign in again`);
    expectCleanFailure(ran);
  });
});

describe("a second login", () => {
  it("replaces the stored sign-in", async () => {
    const user = await signedInUser();
    const first = readProfile(user.configDir);
    await logIn(user);
    expect(readProfile(user.configDir).refreshToken).not.toBe(first.refreshToken);
  });
});
