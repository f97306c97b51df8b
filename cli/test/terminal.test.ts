/** The prompts a person answers in a terminal: masked password, signup's questions, colour and NO_COLOR. */
import { describe, expect, it } from "vitest";
import { jsonOf, newConfigDir, ozekai, ozekaiInTerminal, readProfile, shown, signUp } from "./harness.ts";

const ESC = "\u001b[";

describe("in a terminal", () => {
  it("login asks for the password masked: never shown, and the sign-in works", async () => {
    const user = await signUp();
    const ran = await ozekaiInTerminal(["login", "--user", user.username], [{ after: "Password", send: `${user.password}\r` }], { configDir: user.configDir });
    expect(ran.code, ran.screen).toBe(0);
    expect(ran.screen).not.toContain(user.password);
    expect(ran.screen).toContain("•".repeat(user.password.length));
    expect(ran.screen).toContain(`Signed in to`);
    expect(readProfile(user.configDir).accessToken).toBeTruthy();
  });

  it("signup asks each question, the password masked, and the account exists", async () => {
    const id = crypto.randomUUID().slice(0, 8);
    const user = { username: `cli${id}`, email: `u-${id}@example.com`, password: `amber orchard kettle ${id} drift`, configDir: newConfigDir() };
    const ran = await ozekaiInTerminal(
      ["signup"],
      [
        { after: "Username", send: `${user.username}\r` },
        { after: "Email address", send: `${user.email}\r` },
        { after: "Password", send: `${user.password}\r` },
        { after: "18 or older?", send: "y\r" },
        { after: "Accept privacy policy", send: "y\r" },
      ],
      { configDir: user.configDir },
    );
    expect(ran.code, ran.screen).toBe(0);
    expect(ran.screen).not.toContain(user.password);
    expect(ran.screen).toContain("Check your email");
    const login = await ozekai(["login", "--user", user.username, "--password-stdin", "--json"], { configDir: user.configDir, stdin: user.password });
    expect(login.code, shown(login)).toBe(0);
    expect(jsonOf(login).data?.username).toBe(user.username);
  });

  it("signup declined at the age question, or --password-stdin from a terminal: exit 2", async () => {
    const ran = await ozekaiInTerminal(
      ["signup", "--user", "climinor", "--email", "u-minor@example.com", "--password-stdin"],
      [{ after: "18 or older?", send: "n\r" }],
      { configDir: newConfigDir() },
    );
    // --password-stdin on a terminal is refused before any question.
    expect(ran.code, ran.screen).toBe(2);
    const asked = await ozekaiInTerminal(
      ["signup", "--user", "climinor", "--email", "u-minor@example.com"],
      [
        { after: "Password", send: "a passphrase long enough 1\r" },
        { after: "18 or older?", send: "n\r" },
      ],
      { configDir: newConfigDir() },
    );
    expect(asked.code, asked.screen).toBe(2);
    expect(asked.screen).toContain("Ozekai is for people 18 or older.");
  });

  it("colour on a terminal, none with NO_COLOR", async () => {
    const coloured = await ozekaiInTerminal(["whoami"], [], { configDir: newConfigDir() });
    expect(coloured.code).toBe(3);
    expect(coloured.screen).toContain(`${ESC}31merror:`);
    const plain = await ozekaiInTerminal(["whoami"], [], { configDir: newConfigDir(), env: { NO_COLOR: "1" } });
    expect(plain.code).toBe(3);
    expect(plain.screen).toContain("error: Not signed in");
    expect(plain.screen).not.toContain(ESC);
  });
});
