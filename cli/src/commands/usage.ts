/** usage, limit: the session time you used, and the monthly limit you set on it (docs/decisions/0024-usage-limit-action.md). */
import type { Schemas } from "@ozekai/client";
import { CliError } from "../errors.ts";
import { hours, money, thisMonth, when } from "../format.ts";
import { table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { openSession, type Session, unwrap } from "../session.ts";

type Usage = Schemas["Usage"];
type UsageRow = Usage["sessions"][number];

/** The columns of `usage --csv`, in order (cli/README.md documents them). */
const CSV_COLUMNS = [
  "id",
  "planId",
  "gpuType",
  "gpuCount",
  "state",
  "startedAt",
  "endedAt",
  "seconds",
  "gpuSeconds",
  "costCents",
  "avgGpuUtilizationPercent",
  "maxGpuUtilizationPercent",
  "maxGpuMemoryUsedMb",
] as const;

const csvCell = (value: string | number | null) => {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

function csvRow(s: UsageRow): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | null> = {
    ...s,
    avgGpuUtilizationPercent: s.metrics.avgGpuUtilizationPercent,
    maxGpuUtilizationPercent: s.metrics.maxGpuUtilizationPercent,
    maxGpuMemoryUsedMb: s.metrics.maxGpuMemoryUsedMb,
  };
  return CSV_COLUMNS.map((c) => csvCell(values[c])).join(",");
}

/** A date or date-time as the API takes it (ISO 8601 date, or date-time with an offset); anything else is a usage error here. */
function instant(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const date = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(raw);
  if ((!date && !dateTime) || Number.isNaN(Date.parse(raw))) throw new CliError("usage", `${flag} takes a date (2026-11-01) or a date-time with its offset (2026-11-01T09:00:00Z), not ${JSON.stringify(raw)}.`);
  return raw;
}

const usedLine = (t: Usage["thisMonth"]) =>
  `${t.month}: ${hours(t.usedSeconds)} used${t.limitHours !== null ? ` of your ${t.limitHours} h limit` : ", no limit set"}`;

const actionLine = (action: "notify" | "disconnect") =>
  action === "disconnect" ? "at the limit your session is disconnected and new ones are refused until the month ends" : "at the limit you get an email (also at 80 %); sessions go on";

async function monthUsage(session: Session) {
  return unwrap(await session.client.api.GET("/v1/usage", { params: { query: thisMonth() } })).thisMonth;
}

export function registerUsageCommands(program: Program) {
  program
    .command("usage")
    .description("Your sessions in a window (default: this UTC month): time, GPU time, cost")
    .option("--from <date>", "start: a date (UTC midnight) or a date-time with offset")
    .option("--to <date>", "end, after --from (at most 366 days later)")
    .option("--csv", "CSV with a header on stdout instead of a table")
    .addHelpText("after", "\nExamples:\n  ozekai usage\n  ozekai usage --from 2026-11-01 --to 2026-12-01 --csv > november.csv")
    .action((options, command) =>
      run(command, async ({ out, globals }) => {
        if (options.csv && globals.json) throw new CliError("usage", "Choose --csv or --json, not both.");
        const month = thisMonth();
        const from = instant("--from", options.from) ?? month.from;
        const to = instant("--to", options.to) ?? (options.from ? new Date().toISOString() : month.to);
        const session = openSession(globals);
        await session.requireSignIn();
        const usage = unwrap(await session.client.api.GET("/v1/usage", { params: { query: { from, to } } }));
        if (usage.truncated) out.note("More sessions than one answer holds: narrow the window with --from and --to to see the rest.", "yellow");
        if (options.csv) return { data: usage, lines: [CSV_COLUMNS.join(","), ...usage.sessions.map(csvRow)] };
        const rows = usage.sessions.map((s): [string, string] => [
          s.id,
          `${when(s.startedAt)} → ${s.endedAt ? when(s.endedAt) : "running"} · ${s.planId} · ${hours(s.seconds)}${s.gpuCount > 0 ? ` · ${hours(s.gpuSeconds)} GPU` : ""} · ${s.costCents !== null ? money(s.costCents) : "?"}${s.metrics.avgGpuUtilizationPercent !== null ? ` · GPU ${Math.round(s.metrics.avgGpuUtilizationPercent)} % avg` : ""}`,
        ]);
        const lines = [
          `${when(usage.from)} → ${when(usage.to)}`,
          ...(rows.length ? table(rows) : ["No sessions in this window."]),
          `total: ${hours(usage.totals.seconds)} · ${hours(usage.totals.gpuSeconds)} GPU · ${money(usage.totals.costCents)} (estimate; the invoice is what is charged)`,
          `this month ${usedLine(usage.thisMonth)}`,
        ];
        return { data: usage, lines };
      }),
    );

  program
    .command("limit")
    .description("Show or set your monthly session-time limit, and what happens at it")
    .argument("[hours]", "a whole number of hours per UTC month (1–10000), or `off`")
    .option("--disconnect", "at the limit, disconnect the session and refuse new ones until the month ends")
    .option("--notify", "at the limit, an email only (the default)")
    .addHelpText("after", "\nExamples:\n  ozekai limit                 # show it\n  ozekai limit 40 --disconnect\n  ozekai limit off")
    .action((raw, options, command) =>
      run(command, async ({ globals }) => {
        if (options.disconnect && options.notify) throw new CliError("usage", "Choose --disconnect or --notify, not both.");
        let usageLimitHours: number | null | undefined;
        if (raw !== undefined) {
          if (raw === "off") usageLimitHours = null;
          else if (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= 10_000) usageLimitHours = Number(raw);
          else throw new CliError("usage", `The limit is a whole number of hours from 1 to 10000, or \`off\`; not ${JSON.stringify(raw)}.`);
        }
        const usageLimitAction = options.disconnect ? "disconnect" : options.notify ? "notify" : undefined;
        const session = openSession(globals);
        await session.requireSignIn();
        const changed = usageLimitHours !== undefined || usageLimitAction !== undefined;
        const account = changed
          ? unwrap(await session.client.api.PATCH("/v1/account", { body: { usageLimitHours, usageLimitAction } }))
          : unwrap(await session.client.api.GET("/v1/account"));
        const month = await monthUsage(session);
        const data = { usageLimitHours: account.usageLimitHours, usageLimitAction: account.usageLimitAction, changed, thisMonth: month };
        const lines = [
          account.usageLimitHours === null ? "No monthly limit." : `Monthly limit: ${account.usageLimitHours} h of session time (UTC month); ${actionLine(account.usageLimitAction)}.`,
          `This month ${usedLine(month)}.`,
        ];
        if (month.sessionsRefused) lines.push("The limit is reached: new sessions are refused until the month ends, the limit is raised or removed, or you choose --notify.");
        return { data, lines };
      }),
    );
}
