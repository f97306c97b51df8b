/** doctor: is the API reachable, is the token valid, is the clock right, which versions run. */
import { CliError, toCliError } from "../errors.ts";
import { table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { openSession } from "../session.ts";
import { VERSION } from "../version.ts";

interface Check {
  name: string;
  status: "ok" | "fail" | "skip";
  detail: string;
}

/** More than this between the API's clock and this machine's is reported (TLS and token times go by clocks). */
const MAX_SKEW_S = 60;

export function registerDoctorCommand(program: Program) {
  program
    .command("doctor")
    .description("Check the API, your sign-in, the clock and the versions")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        const checks: Check[] = [{ name: "cli", status: "ok", detail: `ozekai ${VERSION} on Node ${process.version} (${process.platform}-${process.arch})` }];
        const report = () => ({ apiUrl: session.apiUrl, checks });

        const sentAt = Date.now();
        const health = await session.client.api.GET("/healthz").catch((error: unknown) => {
          const failure = toCliError(error, session.apiUrl);
          checks.push({ name: "api", status: "fail", detail: failure.message });
          throw new CliError(failure.kind, failure.message, { data: report() });
        });
        const receivedAt = Date.now();
        checks.push(
          health.response.ok
            ? { name: "api", status: "ok", detail: `${session.apiUrl} answered in ${receivedAt - sentAt} ms` }
            : { name: "api", status: "fail", detail: `${session.apiUrl}/healthz answered HTTP ${health.response.status}` },
        );

        // The Date header has a one-second resolution; compare it with the middle of the round trip.
        const serverDate = Date.parse(health.response.headers.get("Date") ?? "");
        if (Number.isNaN(serverDate)) checks.push({ name: "clock", status: "skip", detail: "the API sent no Date header" });
        else {
          const skewS = Math.round((serverDate - (sentAt + receivedAt) / 2) / 1000);
          const ok = Math.abs(skewS) <= MAX_SKEW_S;
          checks.push({ name: "clock", status: ok ? "ok" : "fail", detail: `${skewS >= 0 ? "+" : ""}${skewS} s against the API${ok ? "" : ": set this machine's clock (NTP)"}` });
        }

        const documentResponse = await fetch(`${session.apiUrl}/openapi.json`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
        const document = documentResponse?.ok ? ((await documentResponse.json()) as { info?: { version?: string } }) : undefined;
        checks.push(
          document?.info?.version
            ? { name: "api version", status: "ok", detail: document.info.version }
            : { name: "api version", status: "fail", detail: "GET /openapi.json did not answer with the API's document" },
        );

        const source = await session.tokenSource();
        if (!source) checks.push({ name: "sign-in", status: "skip", detail: "not signed in (`ozekai login`)" });
        else {
          const { data, response } = await session.client.api.GET("/v1/account");
          checks.push(
            data
              ? { name: "sign-in", status: "ok", detail: `${data.username}, token from ${source === "profile" ? "the stored sign-in" : source}` }
              : { name: "sign-in", status: "fail", detail: `the token from ${source === "profile" ? "the stored sign-in" : source} is refused (HTTP ${response.status}): \`ozekai login\`` },
          );
        }

        const failed = checks.filter((c) => c.status === "fail");
        if (failed.length > 0) throw new CliError("error", `${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}`, { data: report() });
        return { data: report(), lines: table(checks.map((c) => [`${c.status === "ok" ? "ok  " : c.status === "skip" ? "skip" : "FAIL"} ${c.name}`, c.detail])) };
      }),
    );
}
