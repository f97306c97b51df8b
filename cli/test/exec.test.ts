/** `ozekai exec`: a command in the running container, as a script would run it. */
import { beforeAll, describe, expect, it } from "vitest";
import { entitledUser, jsonOf, ozekai, runningSession, shown, signedInUser, type TestUser } from "./harness.ts";

describe("exec", () => {
  let user: TestUser;
  let sessionId: string;
  beforeAll(async () => {
    user = await entitledUser();
    sessionId = await runningSession(user);
  }, 120_000);

  it("prints stdout and stderr apart and exits with the command's status", async () => {
    const ran = await ozekai(["exec", "--", "sh", "-c", "echo out; echo err >&2; exit 7"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(7);
    expect(ran.stdout).toBe("out\n");
    expect(ran.stderr).toBe("err\n");
  });

  it("pipes stdin through to its EOF", async () => {
    const input = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join("\n");
    const ran = await ozekai(["exec", "--session", sessionId, "--", "cat"], { configDir: user.configDir, stdin: input });
    expect(ran.code, shown(ran)).toBe(0);
    expect(ran.stdout).toBe(input);
  });

  it("--json: one document with the exit code and both streams", async () => {
    const ran = await ozekai(["exec", "--json", "--", "sh", "-c", "printf hello; printf oops >&2; exit 3"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(3);
    const document = jsonOf(ran);
    expect(document).toMatchObject({ ok: true, command: "exec", data: { sessionId, exitCode: 3, stdout: "hello", stderr: "oops", truncated: false } });
  });

  it("a signal is 128 + n", async () => {
    const ran = await ozekai(["exec", "--", "sh", "-c", "kill -TERM $$"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(143);
  });

  it("no command, no session, an unknown session: the documented exit codes", async () => {
    const none = await ozekai(["exec"], { configDir: user.configDir });
    expect(none.code, shown(none)).toBe(2);
    const idle = await signedInUser();
    const noSession = await ozekai(["exec", "--json", "--", "true"], { configDir: idle.configDir });
    expect(noSession.code, shown(noSession)).toBe(4);
    expect(jsonOf(noSession).error).toMatchObject({ kind: "not_found", exitCode: 4 });
    const unknown = await ozekai(["exec", "--session", "nosuchsession", "--", "true"], { configDir: user.configDir });
    expect(unknown.code, shown(unknown)).toBe(4);
    expect(unknown.stderr).toContain("request id");
  });
});
