/** signup, login, logout, whoami. */
import { CliError } from "../errors.ts";
import { table } from "../output.ts";
import { askConfirm, askPassword, askText, readPasswordFromStdin } from "../prompts.ts";
import { type Program, run } from "../run.ts";
import { openSession, unwrap } from "../session.ts";

const password = (fromStdin: boolean | undefined, message: string) => (fromStdin ? readPasswordFromStdin() : askPassword(message));

export function registerAccountCommands(program: Program) {
  program
    .command("signup")
    .description("Create an account (18 or older); the outcome arrives by email")
    .option("--user <username>", "the username (asked when missing)")
    .option("--email <address>", "the email address (asked when missing)")
    .option("--password-stdin", "read the password from stdin instead of asking")
    .option("--confirm-age", "confirm that you are 18 or older (asked when missing)")
    .option("--accept-policy", "accept the current privacy policy (asked when missing)")
    .action((options, command) =>
      run(command, async ({ out, globals }) => {
        const session = openSession(globals);
        const policy = unwrap(await session.client.api.GET("/v1/policy"));
        const username = options.user ?? (await askText("Username", "--user"));
        const email = options.email ?? (await askText("Email address", "--email"));
        const secret = await password(options.passwordStdin, "Password (a long passphrase is best)");
        const adult = options.confirmAge === true || (await askConfirm("Are you 18 or older?", "--confirm-age"));
        if (!adult) throw new CliError("usage", "Ozekai is for people 18 or older.");
        out.note(`Privacy policy ${policy.version}: ${new URL(policy.url, session.apiUrl).href}`);
        const accepted = options.acceptPolicy === true || (await askConfirm(`Accept privacy policy ${policy.version}?`, "--accept-policy"));
        if (!accepted) throw new CliError("usage", "An account needs the privacy policy accepted.");
        const body = unwrap(await session.client.api.POST("/v1/auth/signup", { body: { username, email, password: secret, policyVersion: policy.version, ageConfirmed: true } }));
        return { data: { ...body, policyVersion: policy.version }, lines: [body.message, "Then sign in with `ozekai login`."] };
      }),
    );

  program
    .command("login")
    .description("Sign in; the sign-in is kept for this API URL in a 0600 file")
    .option("--user <login>", "username or email address (asked when missing)")
    .option("--password-stdin", "read the password from stdin instead of asking")
    .action((options, command) =>
      run(command, async ({ out, globals }) => {
        const session = openSession(globals, { ignoreEnvToken: true });
        const login = options.user ?? (await askText("Username or email", "--user"));
        const secret = await password(options.passwordStdin, "Password");
        const { error, response } = await session.client.signIn(login, secret);
        if (error || !response.ok) unwrap({ error, response });
        if (process.env.OZEKAI_TOKEN) out.note("OZEKAI_TOKEN is set: commands use it, not this sign-in, until it is unset.", "yellow");
        const account = unwrap(await session.client.api.GET("/v1/account"));
        return { data: { apiUrl: session.apiUrl, username: account.username }, lines: [`Signed in to ${session.apiUrl} as ${account.username}.`] };
      }),
    );

  program
    .command("logout")
    .description("End this sign-in on the server and forget it here")
    .action((_options, command) =>
      run(command, async ({ out, globals }) => {
        // The stored sign-in only: OZEKAI_TOKEN belongs to whoever set it.
        const session = openSession(globals, { ignoreEnvToken: true });
        if (!(await session.store.read())) return { data: { apiUrl: session.apiUrl, signedOut: false }, lines: [`Not signed in to ${session.apiUrl}.`] };
        const { error, response } = await session.client.signOut();
        if (error && response.status !== 401) unwrap({ error, response });
        if (process.env.OZEKAI_TOKEN) out.note("OZEKAI_TOKEN is still set; it was not revoked.", "yellow");
        return { data: { apiUrl: session.apiUrl, signedOut: true }, lines: [`Signed out of ${session.apiUrl}.`] };
      }),
    );

  program
    .command("whoami")
    .description("The account signed in")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const account = unwrap(await session.client.api.GET("/v1/account"));
        const data = {
          apiUrl: session.apiUrl,
          tokenSource: await session.tokenSource(),
          id: account.id,
          username: account.username,
          email: account.email,
          emailVerified: account.emailVerified,
          planId: account.planId,
          canStartSessions: account.canStartSessions,
          restrictions: account.restrictions,
        };
        return {
          data,
          lines: table([
            ["username", account.username],
            ["email", `${account.email}${account.emailVerified ? "" : " (not verified yet: see the email we sent)"}`],
            ["plan", account.planId ?? "none (`ozekai plans`)"],
            ["sessions", account.canStartSessions ? "can start" : `refused: ${account.restrictions.join(", ")}`],
            ["api", session.apiUrl],
          ]),
        };
      }),
    );
}
